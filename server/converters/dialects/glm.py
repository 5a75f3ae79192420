"""GLM-4.5 / 4.6 / 4.7: `<tool_call>NAME<arg_key>k</arg_key><arg_value>v</arg_value></tool_call>`.

Reached through the `<tool_call>` marker (see hermes). String values are kept unstripped. The
body has no end but `</tool_call>`, so a call cut off before it stays text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Found, Scan
from ..coerce import coerce_params
from ..tape import Step, Tape, peek_any, scan_to, skip_ws
from ..xmlish import call_body, valid_name, value_end
from .rules import RAW_ARGUMENTS

CLOSE = "</tool_call>"
KEY, KEY_END = "<arg_key>", "</arg_key>"
VALUE, VALUE_END = "<arg_value>", "</arg_value>"
_NAME_END = re.compile(r"[^\w.\-:]")
_LT = re.compile(r"<")


def scan_body(t: Tape, ctx: Ctx, pos: int) -> Scan:
    """Read a GLM body that starts at `pos`, just after `<tool_call>`."""
    name_end = yield from scan_to(t, pos, _NAME_END, 128)
    name = t.get(pos, name_end)
    if name_end < 0 or not valid_name(name):
        return FAIL
    body = yield from call_body(t, name_end, KEY, CLOSE, _argument)
    if body is None:
        return FAIL
    params, stop = body
    yield Found(name, coerce_params(ctx.tools.parameters(name), params), 0, stop)
    return Done(stop)


def _argument(t: Tape, pos: int) -> Step[tuple[tuple[str, str], int] | None]:
    key_end = yield from scan_to(t, pos, _LT, 256)
    if key_end < 0 or (yield from peek_any(t, key_end, (KEY_END,))) != 0:
        return None
    key = t.get(pos, key_end).strip()
    k = yield from skip_ws(t, key_end + len(KEY_END))
    if (yield from peek_any(t, k, (VALUE,))) != 0:
        return None
    start = k + len(VALUE)
    end = yield from value_end(t, start, VALUE_END, (KEY,), CLOSE, None)
    if end < 0:
        return None
    return (key, t.get(start, end)), end + len(VALUE_END)


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as a GLM block."""
    lines = [f"<tool_call>{name}"]
    for key, value in arguments.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{KEY}{key}{KEY_END}\n{VALUE}{text}{VALUE_END}")
    lines.append(CLOSE)
    return "\n".join(lines)


# No marker of its own: GLM bodies are found through the hermes `<tool_call>` marker.
DIALECT = Dialect("glm45", (), render_call, RAW_ARGUMENTS)
