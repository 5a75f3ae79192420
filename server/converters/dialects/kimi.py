"""Kimi K2: calls in a `<|tool_calls_section_begin|>` … `<|tool_calls_section_end|>` section.

    <|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>{...}<|tool_call_end|>

Everything inside the section is markup: a call whose id names no tool is dropped, and a bare
counter id takes its name from the one offered tool the argument keys fit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import Ctx, Dialect, Found, Marker, Scan
from ..jsonscan import json_end, load_json
from ..tape import Step, Tape, closer_or_end, find_within, peek_any, skip_ws
from .rules import JSON_ARGUMENTS
from .sections import scan_calls

BEGIN, END = "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"
CALL, ARGS, CALL_END = "<|tool_call_begin|>", "<|tool_call_argument_begin|>", "<|tool_call_end|>"
_ID = re.compile(r"(?:functions\.)?([\w.\-]+):\d+|\d+")


def scan_section(t: Tape, ctx: Ctx) -> Scan:
    """Read the calls of one section; complete calls stand even if the section is cut off."""

    def read_call(t: Tape, pos: int) -> Step[tuple[Found | None, int] | None]:
        call = yield from _call(t, pos)
        if call is None:
            return None
        name, arguments, stop = call
        if arguments is not None:
            name = name or ctx.tools.infer_name(arguments)
        found = Found(name, arguments, pos, stop) if name is not None and arguments is not None else None
        return found, stop

    return scan_calls(t, BEGIN, CALL, END, read_call)


def _call(t: Tape, pos: int) -> Step[tuple[str | None, Any, int] | None]:
    head = pos + len(CALL)
    args = yield from find_within(t, head, ARGS, 256)
    ident = _ID.fullmatch(t.get(head, args).strip()) if args >= 0 else None
    k = (yield from skip_ws(t, args + len(ARGS))) if args >= 0 else -1
    if k < 0 or (yield from peek_any(t, k, ("{",))) != 0:
        return None
    end = yield from json_end(t, k)
    if end < 0:
        return None
    stop = yield from closer_or_end(t, end, CALL_END)
    if stop < 0:
        return None
    arguments = load_json(t, k, end)
    # An id without `:index` is skipped but its siblings survive; so is invalid JSON.
    name = ident.group(1) if ident else None
    return name, arguments if isinstance(arguments, dict) and ident else None, stop


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as a Kimi K2 section."""
    body = json.dumps(arguments, ensure_ascii=False)
    return f"{BEGIN}{CALL}functions.{name}:0{ARGS}{body}{CALL_END}{END}"


DIALECT = Dialect("kimi_k2", (Marker(BEGIN, scan_section),), render_call, JSON_ARGUMENTS)
