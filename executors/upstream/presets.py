"""Where each kind of model server listens by default, and what it understands."""

from __future__ import annotations

from dataclasses import dataclass


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


def presets() -> dict[str, Preset]:
    """BACKEND_PRESET values and their defaults (each server's documented default port)."""
    return {
        "lmstudio": Preset("http", "127.0.0.1", 1234),
        "ollama": Preset("http", "127.0.0.1", 11434),
        "vllm": Preset("http", "127.0.0.1", 8000),
        "llamacpp": Preset("http", "127.0.0.1", 8080),
        "openai": Preset("https", "api.openai.com", 443, max_tokens_field="max_completion_tokens", needs_api_key=True),
    }


# A URL given without a preset: an OpenAI-compatible server of unknown kind.
GENERIC = Preset("http", "127.0.0.1", 80)
