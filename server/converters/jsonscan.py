"""Finding where a JSON value ends while it streams, and reading call objects out of JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from .tape import Step, Tape

# Outside strings JSON holds only brackets, quotes, whitespace, number characters and the
# letters of true/false/null: any other character proves the text is not JSON, at once.
_OUTSIDE = re.compile(r'["{}\[\]]|[^\s0-9,:+.eEtrufalsn-]')
_INSIDE = re.compile(r'["\\]')

NAME_KEYS = ("name", "tool", "tool_name")
ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")
CALL_KEYS = frozenset((*NAME_KEYS, *ARGUMENT_KEYS, "function", "type", "id"))


def json_end(t: Tape, pos: int) -> Step[int]:
    """Offset just past the JSON object or array starting at `pos`, or -1 if it is not one."""
    closers: list[str] = []
    in_string = False
    while True:
        hit = t.search(_INSIDE if in_string else _OUTSIDE, pos)
        if hit is None:
            pos = t.end
        elif in_string:
            at, char = hit
            if char == '"':
                in_string, pos = False, at + 1
                continue
            if at + 1 < t.end:
                pos = at + 2
                continue
            pos = at  # the escaped character has not arrived yet
        else:
            at, char = hit
            if char == '"':
                in_string = True
            elif char in "{[":
                closers.append("}" if char == "{" else "]")
            elif char in "}]":
                if not closers or closers.pop() != char:
                    return -1
                if not closers:
                    return at + 1
            else:
                return -1
            pos = at + 1
            continue
        if t.eof:
            return -1
        t.release(pos)
        yield


def load_json(t: Tape, start: int, end: int) -> Any:
    """The decoded JSON between two offsets, or None when it does not decode."""
    try:
        return json.loads(t.get(start, end))
    except (ValueError, RecursionError):
        return None


def call_from_json(value: Any, *, strict: bool = False) -> tuple[str, dict[str, Any]] | None:
    """(name, arguments) from a call object in any common shape, or None.

    Shapes: {"name", "arguments"|"parameters"}, {"tool", ...}, {"function": {...}}, with the
    arguments possibly a JSON string. `strict` (for the bare-JSON fallback) refuses objects
    with keys a call object would not have.
    """
    if not isinstance(value, dict):
        return None
    inner = value.get("function")
    if isinstance(inner, dict) and not any(k in value for k in NAME_KEYS):
        if strict and not set(value) <= {"function", "type", "id"}:
            return None
        return call_from_json(inner, strict=strict)
    if strict and not set(value) <= CALL_KEYS:
        return None
    name = next((value[k] for k in NAME_KEYS if isinstance(value.get(k), str)), None)
    if not name:
        return None
    arguments = _as_object(next((value[k] for k in ARGUMENT_KEYS if k in value), {}))
    return None if arguments is None else (name, arguments)


def _as_object(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, str):
        # Some models (Granite 4, smolagents) send the arguments already serialised.
        if not raw.strip():
            return {}
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return None
    return raw if isinstance(raw, dict) else None
