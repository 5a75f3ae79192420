"""Who makes a model, guessed from its id (for the `owned_by` field of /v1/models)."""

from __future__ import annotations

_OWNERS = (
    ("claude", "anthropic"), ("gpt", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"),
    ("gemini", "google"), ("grok", "xai"), ("kimi", "moonshotai"), ("mai", "microsoft"),
    ("qwen", "alibaba"), ("llama", "meta"), ("mistral", "mistralai"), ("deepseek", "deepseek"),
    ("glm", "zhipuai"),
)


def guess_owner(model: str, default: str) -> str:
    """The maker whose id prefix the model has (case-insensitive), else `default`."""
    lowered = model.lower().rsplit("/", 1)[-1]
    for prefix, owner in _OWNERS:
        if lowered.startswith(prefix):
            return owner
    return default
