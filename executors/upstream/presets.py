"""Where each kind of model server listens by default, and what it understands."""

from __future__ import annotations

from dataclasses import dataclass

# The OpenAI parameters every OpenAI-compatible server takes, sent on as they are. Not `n` (the
# answer has one choice) nor `logprobs` / `top_logprobs` (the events carry no log-probabilities):
# the bridge refuses those.
SERVER_PARAMS = frozenset({
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "presence_penalty",
    "frequency_penalty", "logit_bias", "seed", "response_format", "reasoning_effort",
})
# OpenAI's own: billing, caching and latency hints a local server has no use for (and a strict
# one refuses as unknown fields), so only the `openai` preset sends them; elsewhere they are
# reported as ignored.
OPENAI_ONLY_PARAMS = frozenset({"verbosity", "service_tier", "prompt_cache_key", "safety_identifier", "prediction"})


@dataclass(frozen=True, slots=True)
class Preset:
    """A server's usual address (`protocol://host:port/path`) and habits."""

    protocol: str
    host: str
    port: int
    path: str = "/v1"
    # OpenAI's reasoning models refuse `max_tokens`; the local servers' older versions only know it.
    max_tokens_field: str = "max_tokens"
    needs_api_key: bool = False
    params: frozenset[str] = SERVER_PARAMS


def presets() -> dict[str, Preset]:
    """BACKEND_PRESET values and their defaults (each server's documented default port)."""
    return {
        "lmstudio": Preset("http", "127.0.0.1", 1234),
        "ollama": Preset("http", "127.0.0.1", 11434),
        "vllm": Preset("http", "127.0.0.1", 8000),
        "llamacpp": Preset("http", "127.0.0.1", 8080),
        "openai": Preset("https", "api.openai.com", 443, max_tokens_field="max_completion_tokens", needs_api_key=True,
                         params=SERVER_PARAMS | OPENAI_ONLY_PARAMS),
    }


# A URL given without a preset: an OpenAI-compatible server of unknown kind.
GENERIC = Preset("http", "127.0.0.1", 80)
