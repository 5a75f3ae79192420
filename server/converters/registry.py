"""The explicit dialect registry, and the marker table built from it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from .base import Dialect
from .dialects import (
    bare_json,
    claude_xml,
    deepseek,
    glm,
    harmony,
    hermes,
    kimi,
    llama3,
    mistral,
    pythonic,
    qwen3coder,
)
from .textscan import MarkerTable


def build_dialects() -> dict[str, Dialect]:
    """Dialect name to dialect. A new dialect is one module plus one line here."""
    return {
        "hermes": hermes.DIALECT,
        "glm45": glm.DIALECT,
        "qwen3coder": qwen3coder.DIALECT,
        "claude_xml": claude_xml.DIALECT,
        "harmony": harmony.DIALECT,
        "llama3_json": llama3.DIALECT,
        "pythonic": pythonic.DIALECT,
        "mistral": mistral.DIALECT,
        "deepseek_v3": deepseek.DIALECT_V3,
        "deepseek_v31": deepseek.DIALECT_V31,
        "kimi_k2": kimi.DIALECT,
        "json": bare_json.DIALECT,
    }


DIALECTS: Mapping[str, Dialect] = MappingProxyType(build_dialects())


def get_dialect(name: str) -> Dialect:
    """The dialect registered under `name`; ValueError naming the known ones otherwise."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(
            f"unknown tool-call dialect {name!r}; known: {', '.join(DIALECTS)}"
        ) from None


@cache
def default_table() -> MarkerTable:
    """Every dialect's markers: all of them are recognised, whatever dialect was asked for."""
    return MarkerTable(marker for dialect in DIALECTS.values() for marker in dialect.markers)
