"""Which dialect a model is prompted in."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from .registry import DIALECTS


def dialect_for_model(model_id: str, overrides: Mapping[str, str] | None = None, *, default: str | None = None) -> str:
    """The dialect for a model id: the most specific matching override, else its family default.

    Override keys are id prefixes or fnmatch patterns (case-insensitive), matched against the
    whole id (`claude/sonnet`) and its last part (`sonnet`). Claude / Anthropic models default to
    "claude_xml"; other models to `default` (a backend's own preference) or "hermes".
    """
    model = model_id.lower()
    family = model.rsplit("/", 1)[-1]  # "claude/sonnet" -> "sonnet"; patterns may match either
    best: tuple[str, str] | None = None
    for pattern, dialect in (overrides or {}).items():
        if dialect not in DIALECTS:
            raise ValueError(f"unknown tool-call dialect {dialect!r} for model pattern {pattern!r}")
        key = pattern.lower()
        matched = any(
            fnmatchcase(name, key) if any(c in key for c in "*?[") else name.startswith(key)
            for name in (model, family)
        )
        if matched and (best is None or len(pattern) > len(best[0])):
            best = (pattern, dialect)
    if best is not None:
        return best[1]
    if family.startswith("claude") or "anthropic" in model:
        return "claude_xml"
    return default or "hermes"
