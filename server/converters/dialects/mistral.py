"""Mistral: `[TOOL_CALLS]` followed by a JSON list (before v11) or by `NAME{...}` (v11+).

    [TOOL_CALLS] [{"name": "f", "arguments": {...}}]      [TOOL_CALLS]f{...}[TOOL_CALLS]g{...}

The v11 form may carry `[CALL_ID]id` and `[ARGS]` between the name and the arguments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Found, Marker, Scan
from ..jsonscan import call_from_json, json_end, load_json
from ..tape import Step, Tape, find_within, need, peek_any, scan_to, skip_ws
from ..xmlish import valid_name
from .rules import JSON_ARGUMENTS

BOT = "[TOOL_CALLS]"
CALL_ID, ARGS = "[CALL_ID]", "[ARGS]"
_NAME_END = re.compile(r"[^\w.\-]")


def scan_calls(t: Tape, ctx: Ctx) -> Scan:
    """Read what follows one `[TOOL_CALLS]`: a JSON list, one object, or `NAME{...}`."""
    k = yield from skip_ws(t, len(BOT))
    if not (yield from need(t, k)):
        return FAIL
    if t.char(k) in "[{":
        end = yield from json_end(t, k)
        value = load_json(t, k, end) if end > 0 else None
        items = value if isinstance(value, list) else [value]
        calls = [call_from_json(item) for item in items]
        if not calls or any(call is None or not ctx.tools.known(call[0]) for call in calls):
            return FAIL  # all or nothing: the list is one piece of markup
    else:
        named = yield from _named_call(t, k)
        if named is None:
            return FAIL
        calls, end = [named[0]], named[1]
    for call in calls:
        assert call is not None
        yield Found(call[0], call[1], 0, end)
    return Done(end)


def _named_call(t: Tape, pos: int) -> Step[tuple[tuple[str, dict[str, Any]], int] | None]:
    name_end = yield from scan_to(t, pos, _NAME_END, 128)
    name = t.get(pos, name_end)
    if name_end < 0 or not valid_name(name):
        return None
    k = yield from skip_ws(t, name_end)
    if (yield from peek_any(t, k, (CALL_ID,))) == 0:
        k = yield from find_within(t, k, ARGS, 64)
        if k < 0:
            return None
    if (yield from peek_any(t, k, (ARGS,))) == 0:
        k += len(ARGS)
    k = yield from skip_ws(t, k)
    if (yield from peek_any(t, k, ("{",))) != 0:
        return None
    end = yield from json_end(t, k)
    arguments = load_json(t, k, end) if end > 0 else None
    return ((name, arguments), end) if isinstance(arguments, dict) else None


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call in the Mistral v11 form."""
    return f"{BOT}{name}{json.dumps(arguments, ensure_ascii=False)}"


DIALECT = Dialect("mistral", (Marker(BOT, scan_calls),), render_call, JSON_ARGUMENTS)
