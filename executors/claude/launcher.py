"""One-shot Claude runs: `claude -p` with stream-json in and out, tools and settings off.

The prompt is one stream-json user message: text blocks, and each image as an `image` block with
a base64 source, in their places (claude 2.1.197 sends the blocks to the model as they are).
`reasoning_effort` goes in control requests before the message, so a process started ahead of
its request takes it as well as a cold one (see `effort_requests`).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from executors.claude.decoder import ClaudeDecoder
from executors.cli.config import CliConfig
from executors.cli.process import CliProcess
from executors.cli.running import LaunchSpec, PromptInput, RunningCli
from executors.cli.transcript import DEFAULT_SYSTEM_PROMPT, PromptImage, PromptPart
from executors.errors import CliNotFound

BACKEND = "claude"
SYSTEM_PROMPT_FILE = "system-prompt.md"
READY_PING: dict[str, Any] = {"type": "control_request", "request_id": "bridge-ready", "request": {"subtype": "interrupt"}}

# reasoning_effort → (effort level, thinking budget), both captured from claude 2.1.197 against a
# fake model server. The level (`apply_flag_settings {effortLevel}`, what `--effort` sets) becomes
# `output_config.effort` of models with adaptive thinking (sonnet 5, opus 4.8); the budget
# (`set_max_thinking_tokens`, what MAX_THINKING_TOKENS sets) is `thinking.budget_tokens` of models
# with a budget (haiku 4.5, default 31999); 0 turns thinking off for every model. None: the default.
EFFORTS: dict[str, tuple[str | None, int | None]] = {
    "none": (None, 0),
    "minimal": ("low", 1024),  # Anthropic's smallest budget
    "low": ("low", 4096),
    "medium": ("medium", 16384),
    "high": ("high", None),
    "xhigh": ("xhigh", None),
    "max": ("max", None),
}

# Claude has no model discovery (reference 1.2.2): its aliases plus the ids found in 2.1.197.
KNOWN_MODELS = (
    "default", "sonnet", "opus", "haiku", "fable", "opusplan", "sonnet[1m]", "opus[1m]",
    "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5", "claude-opus-4-1",
    "claude-sonnet-5", "claude-sonnet-4-6", "claude-sonnet-4-5", "claude-haiku-4-5",
    "claude-fable-5", "claude-mythos-5", "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001", "claude-opus-4-5-20251101",
)


class ClaudeLauncher:
    """Starts `claude -p` once per request in the request's temp dir."""

    def __init__(self, config: CliConfig, *, max_retries: int = 2) -> None:
        self.config = config
        self.max_retries = max_retries

    def argv(self, exe: str, spec: LaunchSpec) -> list[str]:
        """The measured argv; the prompt goes on stdin as one stream-json user message.

        Without a system prompt in `spec` (a process started ahead of its request) there is no
        prompt file: the prompt arrives later, in a `control_request` `initialize`.
        """
        argv = [
            exe, "-p", "--input-format", "stream-json", "--output-format", "stream-json",
            "--verbose", "--include-partial-messages", "--model", spec.model,
        ]
        if spec.system_prompt is not None:
            argv += ["--system-prompt-file", str(spec.workdir / SYSTEM_PROMPT_FILE)]
        argv += ["--setting-sources", "", "--no-session-persistence", "--strict-mcp-config"]
        if self.config.enable_tools:
            argv += ["--permission-mode", "bypassPermissions", "--max-turns", "25"]
        else:
            argv += ["--tools", "", "--max-turns", "1"]
        return argv

    async def start(self, spec: LaunchSpec) -> RunningCli:
        """Spawn claude with its system prompt file in place (it reads it at start-up)."""
        exe = self.executable()
        system_prompt = with_default(spec.system_prompt)
        (spec.workdir / SYSTEM_PROMPT_FILE).write_text(system_prompt, encoding="utf-8")
        spec = LaunchSpec(spec.model, spec.workdir, system_prompt)
        process = await CliProcess.spawn(BACKEND, self.argv(exe, spec), cwd=spec.workdir, env=self._env())
        return RunningCli(process, ClaudeDecoder(), _ClaudeChannel(spec.workdir, system_prompt), self.config.grace_s)

    async def prestart(self, model: str, workdir: Path) -> RunningCli:
        """Spawn claude ahead of its request (a background spawn): it waits, silent, for stdin.

        `send` then delivers the request's system prompt in a `control_request` `initialize` and
        the prompt as one user message; each process serves exactly one request.
        """
        exe = self.executable()
        process = await CliProcess.spawn(
            BACKEND, self.argv(exe, LaunchSpec(model, workdir)), cwd=workdir, env=self._env(), background=True)
        # Answered once claude has started up (about 0.5 s), so the pool knows it is ready;
        # an `interrupt` while idle does nothing else, and the later `initialize` still counts.
        with contextlib.suppress(BrokenPipeError):  # died at once: the pool sees it never got ready
            await process.write(_line(READY_PING))
        return RunningCli(process, ClaudeDecoder(), _InitializeChannel(), self.config.grace_s)

    def executable(self) -> str:
        """The CLI's absolute path; raises CliNotFound."""
        exe = self.config.executable()
        if exe is None:
            raise CliNotFound(BACKEND, f"the claude CLI was not found ({self.config.path!r}); install @anthropic-ai/claude-code or set CLAUDE_CLI_PATH")
        return exe

    def _env(self) -> dict[str, str]:
        env = self.config.child_env(
            CLAUDE_CODE_MAX_RETRIES=str(self.max_retries), DISABLE_AUTOUPDATER="1", DISABLE_TELEMETRY="1"
        )
        if self.config.enable_tools and os.geteuid() == 0:
            env["IS_SANDBOX"] = "1"  # bypassPermissions refuses to run as root otherwise (pitfall P9)
        return env

    async def discover_models(self) -> list[str]:
        """The operator's list, else the known aliases and ids."""
        return list(self.config.models or KNOWN_MODELS)


class _ClaudeChannel:
    """One stream-json user message on stdin, then end of input."""

    def __init__(self, workdir: Path, system_prompt: str) -> None:
        self._workdir = workdir
        self._system_prompt = system_prompt

    async def deliver(self, process: CliProcess, prompt: PromptInput) -> None:
        """Send the effort and the prompt; a different system prompt cannot reach a started claude."""
        system_prompt = prompt.system_prompt
        if system_prompt is not None and system_prompt.strip() and system_prompt != self._system_prompt:
            raise ValueError("claude reads its system prompt at start-up; start a new process for another one")
        lines = [*effort_requests(prompt.effort), user_message(prompt.parts)]
        await process.send(b"".join(_line(line) for line in lines))


class _InitializeChannel:
    """A started claude learns its system prompt from `initialize`, then gets the user message."""

    async def deliver(self, process: CliProcess, prompt: PromptInput) -> None:
        """All lines at once, then end of input: claude answers, then exits."""
        initialize = {"type": "control_request", "request_id": "bridge-init",
                      "request": {"subtype": "initialize", "systemPrompt": with_default(prompt.system_prompt)}}
        lines = [initialize, *effort_requests(prompt.effort), user_message(prompt.parts)]
        await process.send(b"".join(_line(line) for line in lines))


def effort_requests(effort: str | None) -> list[dict[str, Any]]:
    """The control requests that set this reasoning effort (none for no effort)."""
    level, budget = EFFORTS.get(effort, (None, None)) if effort is not None else (None, None)
    requests: list[dict[str, Any]] = []
    if level is not None:
        requests.append({"type": "control_request", "request_id": "bridge-effort",
                         "request": {"subtype": "apply_flag_settings", "settings": {"effortLevel": level}}})
    if budget is not None:
        requests.append({"type": "control_request", "request_id": "bridge-thinking",
                         "request": {"subtype": "set_max_thinking_tokens", "max_thinking_tokens": budget}})
    return requests


def with_default(system_prompt: str | None) -> str:
    """The client's system prompt, or a plain assistant's when it sent none."""
    return system_prompt if system_prompt and system_prompt.strip() else DEFAULT_SYSTEM_PROMPT


def user_message(parts: tuple[PromptPart, ...]) -> dict[str, Any]:
    """The stream-json user message: text blocks and image blocks in order."""
    content = [_block(part) for part in parts if not (isinstance(part, str) and not part)]
    return {"type": "user", "message": {"role": "user", "content": content or [{"type": "text", "text": ""}]}}


def _block(part: PromptPart) -> dict[str, Any]:
    if isinstance(part, PromptImage):
        source = {"type": "base64", "media_type": part.image.media_type, "data": part.image.base64()}
        return {"type": "image", "source": source}
    return {"type": "text", "text": part}


def _line(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")
