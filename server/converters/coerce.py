"""Typing of raw argument text from XML-style dialects, driven by the tool's JSON schema.

The wire format carries no types, so only the schema can say that `5` is a number: without a
type for the property (no `parameters`, a property it does not name, or one with no type) the
value stays the text the model wrote, as vLLM's MiniMax-M2 and SGLang's GLM parsers keep it.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .schema_types import allowed_types

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_MISSING = object()


def coerce_params(
    schema: Mapping[str, Any] | None, params: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """Build an arguments object from (key, raw text) pairs, typed by the parameters schema."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    out: dict[str, Any] = {}
    for key, raw in params:
        prop = props.get(key) if isinstance(props, Mapping) else None
        out[key] = coerce_value(raw, prop)
    return out


def coerce_value(raw: str, prop: Any) -> Any:
    """One raw value typed by its property schema; raw text whenever conversion fails."""
    types = allowed_types(prop)
    if not types:
        return raw
    text = raw.strip()
    if "null" in types and text in ("null", "None"):
        return None
    if "string" in types:
        return raw
    for name in ("integer", "number", "boolean", "object", "array"):
        if name in types:
            value = _CONVERTERS[name](text)
            if value is not _MISSING:
                return value
    return raw


def to_json_value(value: Any) -> Any:
    """A Python literal as a JSON-compatible value; ValueError for what JSON cannot hold."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite number")
        return value
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("object keys must be strings")
        return {k: to_json_value(v) for k, v in value.items()}
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _MISSING


def _to_integer(text: str) -> Any:
    if _INTEGER.fullmatch(text):
        return int(text)
    number = _to_number(text)
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return _MISSING


def _to_number(text: str) -> Any:
    if not _NUMBER.fullmatch(text):
        return _MISSING
    if not any(c in text for c in ".eE"):
        return int(text)
    value = float(text)
    return value if math.isfinite(value) else _MISSING


def _to_boolean(text: str) -> Any:
    lowered = text.lower()
    return {"true": True, "false": False}.get(lowered, _MISSING)


def _to_container(kind: type) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        value = _load_json(text)
        if isinstance(value, kind):
            return value
        try:
            # Models write Python reprs too (single quotes, True/None), e.g. GLM-4.6 arrays.
            value = to_json_value(ast.literal_eval(text))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return _MISSING
        return value if isinstance(value, kind) else _MISSING

    return convert


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "object": _to_container(dict),
    "array": _to_container(list),
}
