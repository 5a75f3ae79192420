"""Hermes / Qwen2.5 / Qwen3: `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`.

The same `<tool_call>` tag also wraps GLM-4.5 and Qwen3-Coder bodies, so its scanner looks at
the first character of the body and hands over to the right dialect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Found, Marker, Scan
from ..jsonscan import call_from_json, json_end, load_json
from ..tape import Tape, need, optional_closer, skip_ws
from . import glm, qwen3coder
from .rules import JSON_ARGUMENTS

OPEN = "<tool_call>"
CLOSE = "</tool_call>"


def scan_tool_call(t: Tape, ctx: Ctx) -> Scan:
    """Read one `<tool_call>` block in whichever dialect its body is written."""
    body = yield from skip_ws(t, len(OPEN))
    if not (yield from need(t, body)):
        return FAIL
    first = t.char(body)
    if first == "{":
        return (yield from _json_body(t, body))
    if first == "<":
        return (yield from qwen3coder.scan_wrapped(t, ctx, body))
    return (yield from glm.scan_body(t, ctx, body))


def _json_body(t: Tape, pos: int) -> Scan:
    end = yield from json_end(t, pos)
    call = call_from_json(load_json(t, pos, end)) if end > 0 else None
    if call is None:
        return FAIL
    # A complete object is a call even when the closing tag was cut off.
    stop = yield from optional_closer(t, end, CLOSE)
    yield Found(call[0], call[1], 0, stop)
    return Done(stop)


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as a Hermes block."""
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return f"{OPEN}\n{body}\n{CLOSE}"


DIALECT = Dialect("hermes", (Marker(OPEN, scan_tool_call),), render_call, JSON_ARGUMENTS)
