"""Qwen3-Coder / Qwen3.5: XML-ish functions with raw parameter values.

    <tool_call>\\n<function=NAME>\\n<parameter=k>\\nv\\n</parameter>\\n</function>\\n</tool_call>

Also accepted without the `<tool_call>` wrapper, and inside Seed-OSS `<seed:tool_call>`. Values
are raw text between the tags, with one leading and one trailing line break (LF or CRLF) dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Found, Marker, Scan
from ..coerce import coerce_params
from ..tape import Step, Tape, optional_closer, peek_any, scan_to, skip_ws
from ..xmlish import call_body, trim_newlines, valid_name, value_end
from .rules import RAW_ARGUMENTS

CALL_CLOSE = "</tool_call>"
SEED_OPEN, SEED_CLOSE = "<seed:tool_call>", "</seed:tool_call>"
FUNCTION, FUNCTION_END = "<function=", "</function>"
PARAM, PARAM_END = "<parameter=", "</parameter>"
_TAG_END = re.compile(r"[>\n]")

Function = tuple[str, list[tuple[str, str]], int]


def scan_wrapped(t: Tape, ctx: Ctx, pos: int, close: str = CALL_CLOSE) -> Scan:
    """Read a `<function=...>` body at `pos` inside `<tool_call>` (or another wrapper)."""
    function = yield from _function(t, pos, after=(close,))
    if function is None:
        return FAIL
    name, params, end = function
    stop = yield from optional_closer(t, end, close)
    yield Found(name, coerce_params(ctx.tools.parameters(name), params), 0, stop)
    return Done(stop)


def scan_seed(t: Tape, ctx: Ctx) -> Scan:
    """Read a Seed-OSS `<seed:tool_call>` block (the same body as Qwen3-Coder)."""
    k = yield from skip_ws(t, len(SEED_OPEN))
    return (yield from scan_wrapped(t, ctx, k, SEED_CLOSE))


def scan_bare(t: Tape, ctx: Ctx) -> Scan:
    """Read a `<function=...>` block written without the `<tool_call>` wrapper."""
    function = yield from _function(t, 0, after=None)
    if function is None:
        return FAIL
    name, params, end = function
    yield Found(name, coerce_params(ctx.tools.parameters(name), params), 0, end)
    return Done(end)


def _function(t: Tape, pos: int, *, after: tuple[str, ...] | None) -> Step[Function | None]:
    if (yield from peek_any(t, pos, (FUNCTION,))) != 0:
        return None
    name = yield from _tag_name(t, pos + len(FUNCTION))
    if name is None:
        return None

    def parameter(t: Tape, pos: int) -> Step[tuple[tuple[str, str], int] | None]:
        key = yield from _tag_name(t, pos)
        if key is None:
            return None
        end = yield from value_end(t, key[1], PARAM_END, (PARAM,), FUNCTION_END, after)
        if end < 0:
            return None
        return (key[0], trim_newlines(t.get(key[1], end))), end + len(PARAM_END)

    body = yield from call_body(t, name[1], PARAM, FUNCTION_END, parameter)
    return None if body is None else (name[0], *body)


def _tag_name(t: Tape, pos: int) -> Step[tuple[str, int] | None]:
    end = yield from scan_to(t, pos, _TAG_END, 256)
    if end < 0 or t.char(end) != ">":
        return None
    name = t.get(pos, end).strip()
    return (name, end + 1) if valid_name(name) else None


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as a Qwen3-Coder block."""
    lines = ["<tool_call>", f"{FUNCTION}{name}>"]
    for key, value in arguments.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines += [f"{PARAM}{key}>", text, PARAM_END]
    lines += [FUNCTION_END, CALL_CLOSE]
    return "\n".join(lines)


DIALECT = Dialect(
    "qwen3coder",
    (Marker(FUNCTION, scan_bare), Marker(SEED_OPEN, scan_seed)),
    render_call,
    RAW_ARGUMENTS,
)
