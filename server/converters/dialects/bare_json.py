"""The bare-JSON fallback: a call object (or a list of them) written as plain JSON.

Used only when tools were offered, no native call has been seen yet, the JSON starts a line
(or fills a ```json fence) and every name is an offered tool; otherwise it stays content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Fail, Found, Marker, Scan
from ..jsonscan import CALL_KEYS, NAME_KEYS, call_from_json, json_end, load_json
from ..tape import Step, Tape, peek_any, scan_to, skip_ws
from .rules import JSON_ARGUMENTS

_STRING_END = re.compile(r'["\\\n]')
_NOT_BACKTICK = re.compile(r"[^`]")
_NEWLINE = re.compile(r"\n")


def scan_object(t: Tape, ctx: Ctx) -> Scan:
    """Read call objects from a `{` at a line start, separated by `;` or newlines."""
    k = stop = 0
    found = False
    while (yield from _plausible(t, ctx, k)):
        end = yield from json_end(t, k)
        call = _known_call(ctx, load_json(t, k, end)) if end > 0 else None
        if call is None:
            break
        yield Found(call[0], call[1], k, end)
        found, stop = True, end
        k = yield from skip_ws(t, end)
        if (yield from peek_any(t, k, (";",))) == 0:
            stop = k + 1
            k = yield from skip_ws(t, stop)
    return Done(stop) if found else FAIL


def scan_array(t: Tape, ctx: Ctx, pos: int) -> Scan:
    """Read a JSON list of call objects starting at `pos`; all must name offered tools."""
    if not ctx.fallback_ok:
        return FAIL
    end = yield from json_end(t, pos)
    value = load_json(t, pos, end) if end > 0 else None
    calls = [_known_call(ctx, item) for item in value] if isinstance(value, list) else []
    if not calls or any(call is None for call in calls):
        return FAIL
    for call in calls:
        assert call is not None
        yield Found(call[0], call[1], pos, end)
    return Done(end)


def scan_fenced(t: Tape, ctx: Ctx) -> Scan:
    """Read a ```json fence that holds nothing but a call object or a list of them."""
    run_end = yield from scan_to(t, 0, _NOT_BACKTICK, 1 << 30)
    run_end = t.end if run_end < 0 else run_end
    fence = t.get(0, run_end)
    not_a_call = Fail(skip=len(fence), fence=fence)
    line_end = yield from scan_to(t, run_end, _NEWLINE, 32)
    if line_end < 0 or t.get(run_end, line_end).strip().lower() not in ("", "json"):
        return not_a_call
    k = yield from skip_ws(t, line_end + 1)
    which = yield from peek_any(t, k, ("{", "["))
    if which == 0 and (yield from _plausible(t, ctx, k)):
        end = yield from json_end(t, k)
        found = [_known_call(ctx, load_json(t, k, end))] if end > 0 else []
    elif which == 1:
        end = yield from json_end(t, k)
        value = load_json(t, k, end) if end > 0 else None
        found = [_known_call(ctx, item) for item in value] if isinstance(value, list) else []
    else:
        return not_a_call
    close = yield from skip_ws(t, end)
    if not found or None in found or (yield from peek_any(t, close, (fence,))) != 0:
        return not_a_call
    stop = close + len(fence)
    for call in found:
        assert call is not None
        yield Found(call[0], call[1], 0, stop)
    return Done(stop)


def _known_call(ctx: Ctx, value: Any) -> tuple[str, dict[str, Any]] | None:
    call = call_from_json(value, strict=True)
    return call if call is not None and ctx.tools.given and ctx.tools.known(call[0]) else None


def _plausible(t: Tape, ctx: Ctx, pos: int) -> Step[bool]:
    # Look at the first key (and the name, when it comes first) so that an ordinary JSON
    # answer is released as content at once instead of being held until it is complete.
    if not ctx.fallback_ok or (yield from peek_any(t, pos, ("{",))) != 0:
        return False
    k = yield from skip_ws(t, pos + 1)
    key = yield from _short_string(t, k)
    if key is None or key[0] not in CALL_KEYS:
        return False
    if key[0] not in NAME_KEYS:
        return True
    k = yield from skip_ws(t, key[1])
    if (yield from peek_any(t, k, (":",))) != 0:
        return False
    k = yield from skip_ws(t, k + 1)
    name = yield from _short_string(t, k)
    return name is not None and ctx.tools.known(name[0])


def _short_string(t: Tape, pos: int) -> Step[tuple[str, int] | None]:
    # A short JSON string without escapes (keys and tool names), and the offset after it.
    if (yield from peek_any(t, pos, ('"',))) != 0:
        return None
    end = yield from scan_to(t, pos + 1, _STRING_END, 128)
    if end < 0 or t.char(end) != '"':
        return None
    return t.get(pos + 1, end), end + 1


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as a bare JSON object."""
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


DIALECT = Dialect(
    "json",
    (
        Marker("{", scan_object, line_start=True, fallback=True),
        Marker("```", scan_fenced, line_start=True, fallback=True),
    ),
    render_call,
    JSON_ARGUMENTS,
)
