"""What the headless server is started with, what each session is created with, and sent.

Headless sessions ignore the `COPILOT_PROVIDER_*` variables the one-shot CLI reads, so a BYOK
provider is passed per session; a GitHub token is named to the server with `--auth-token-env`,
and without one the server uses a stored `copilot login` (so `--no-auto-login` is left out).
The reasoning effort is the session's `reasoningEffort` (sent on as the model request's
`reasoning_effort`, left out for `none`); images are `blob` attachments of `session.send` (the
model gets a text part with the `displayName`, then the image as a data URL). Both captured
from copilot 1.0.102.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from executors.cli.transcript import RenderedPrompt

TOKEN_ENV = ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN")
# BYOK refuses to start without a model; each session names its own, so this only unlocks start-up.
SPAWN_MODEL = "gpt-4.1"
_PROVIDER_STRINGS = {
    "COPILOT_PROVIDER_TYPE": "type",
    "COPILOT_PROVIDER_WIRE_API": "wireApi",
    "COPILOT_PROVIDER_TRANSPORT": "transport",
    "COPILOT_PROVIDER_API_KEY": "apiKey",
    "COPILOT_PROVIDER_BEARER_TOKEN": "bearerToken",
    "COPILOT_PROVIDER_MODEL_ID": "modelId",
    "COPILOT_PROVIDER_WIRE_MODEL": "wireModel",
}
_PROVIDER_INTS = {
    "COPILOT_PROVIDER_MAX_PROMPT_TOKENS": "maxPromptTokens",
    "COPILOT_PROVIDER_MAX_OUTPUT_TOKENS": "maxOutputTokens",
}
# No session field can run a command per request; the one-shot CLI does that itself.
ONESHOT_ONLY_ENV = ("COPILOT_PROVIDER_API_KEY_COMMAND",)


def _set(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key, "").strip()
    return value or None


def provider_from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The session `provider` the `COPILOT_PROVIDER_*` variables describe (None without a base URL)."""
    base_url = _set(env, "COPILOT_PROVIDER_BASE_URL")
    if base_url is None:
        return None
    provider: dict[str, Any] = {"type": "openai", "baseUrl": base_url}
    for key, field in _PROVIDER_STRINGS.items():
        if (value := _set(env, key)) is not None:
            provider[field] = value
    for key, field in _PROVIDER_INTS.items():
        if (value := _set(env, key)) is not None and value.isdigit():
            provider[field] = int(value)
    if (version := _set(env, "COPILOT_PROVIDER_AZURE_API_VERSION")) is not None:
        provider["azure"] = {"apiVersion": version}
    if (headers := _set(env, "COPILOT_PROVIDER_HEADERS")) is not None:
        provider["headers"] = parse_headers(headers)
    return provider


def parse_headers(text: str) -> dict[str, str]:
    """`Name: Value` pairs separated by newlines (or a literal `\\n`), as the CLI reads them."""
    headers: dict[str, str] = {}
    for line in text.replace("\\n", "\n").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers[name.strip()] = value.strip()
    return headers


def server_argv(exe: str, env: Mapping[str, str]) -> list[str]:
    """The SDK's start-up argv, plus a token variable or a spawn model when needed."""
    argv = [exe, "--headless", "--no-auto-update", "--log-level", "warning", "--stdio"]
    token = next((key for key in TOKEN_ENV if _set(env, key)), None)
    if token is not None:
        argv += ["--auth-token-env", token, "--no-auto-login"]  # as the SDK does with a token
    byok = _set(env, "COPILOT_PROVIDER_BASE_URL") is not None
    if byok and not (_set(env, "COPILOT_MODEL") or _set(env, "COPILOT_PROVIDER_MODEL_ID")):
        argv += ["--model", SPAWN_MODEL]
    return argv


def create_params(
    session_id: str, model: str, system_prompt: str, workdir: Path, provider: Mapping[str, Any] | None,
    *, effort: str | None = None,
) -> dict[str, Any]:
    """`session.create`: exactly our system prompt, no tools, a private working dir, nothing kept."""
    params: dict[str, Any] = {
        "sessionId": session_id,
        "model": model,
        "systemMessage": {"mode": "replace", "content": system_prompt},
        "availableTools": [],
        "toolFilterPrecedence": "excluded",
        "workingDirectory": str(workdir),
        "streaming": True,
        "requestPermission": False,
        "requestUserInput": False,
        "enableSessionTelemetry": False,
        "envValueMode": "direct",
        "skipEmbeddingRetrieval": True,
        "embeddingCacheStorage": "in-memory",
        "enableOnDemandInstructionDiscovery": False,
        "enableFileHooks": False,
        "enableHostGitOperations": False,
        "enableSessionStore": False,
        "enableSkills": False,
        "memory": {"enabled": False},
        "customAgentsLocalOnly": True,
        "mcpOAuthTokenStorage": "in-memory",
    }
    if provider is not None:
        params["provider"] = dict(provider)
    if effort is not None:
        params["reasoningEffort"] = effort
    return params


def send_params(session_id: str, rendered: RenderedPrompt) -> dict[str, Any]:
    """`session.send`: the prompt's text, and its images as attachments."""
    params: dict[str, Any] = {"sessionId": session_id, "prompt": rendered.prompt}
    if rendered.images:
        params["attachments"] = [
            {"type": "blob", "data": i.image.base64(), "mimeType": i.image.media_type, "displayName": i.name}
            for i in rendered.images
        ]
    return params
