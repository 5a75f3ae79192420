"""DeepSeek V3 / R1 and V3.1: calls in a `<｜tool▁calls▁begin｜>` … `<｜tool▁calls▁end｜>` section.

V3:   <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\\n```json\\n{...}\\n```
      <｜tool▁call▁end｜>
V3.1: <｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import Ctx, Dialect, Found, Marker, Scan
from ..jsonscan import json_end, load_json
from ..tape import Step, Tape, closer_or_end, find_within, peek_any, scan_to, skip_ws
from ..xmlish import valid_name
from .rules import JSON_ARGUMENTS
from .sections import scan_calls

BEGIN, END = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"
CALL, CALL_END = "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>"
SEP = "<｜tool▁sep｜>"
_NEWLINE = re.compile(r"\n")


def scan_section(t: Tape, ctx: Ctx) -> Scan:
    """Read the calls of one section; complete calls stand even if the section is cut off."""
    return scan_calls(t, BEGIN, CALL, END, _call)


def _call(t: Tape, pos: int) -> Step[tuple[Found | None, int] | None]:
    head = pos + len(CALL)
    sep = yield from find_within(t, head, SEP, 128)
    if sep < 0:
        return None
    kind = t.get(head, sep).strip()
    k = yield from skip_ws(t, sep + len(SEP))
    fenced = kind == "function" and (yield from peek_any(t, k, ("{",))) != 0
    if fenced:
        line_end = yield from scan_to(t, k, _NEWLINE, 128)
        if line_end < 0:
            return None
        name = t.get(k, line_end).strip()
        k = yield from skip_ws(t, line_end + 1)
        which = yield from peek_any(t, k, ("```json", "```"))
        if which < 0:
            return None
        k = yield from skip_ws(t, k + (7, 3)[which])
    else:
        name = kind
    if not valid_name(name) or (yield from peek_any(t, k, ("{",))) != 0:
        return None
    end = yield from json_end(t, k)
    arguments = load_json(t, k, end) if end > 0 else None
    if not isinstance(arguments, dict):
        return None
    if fenced:
        end = yield from closer_or_end(t, end, "```")
    stop = (yield from closer_or_end(t, end, CALL_END)) if end > 0 else -1
    return (Found(name, arguments, pos, stop), stop) if stop > 0 else None


def render_v3(name: str, arguments: Mapping[str, Any]) -> str:
    """A call in the DeepSeek V3 form."""
    body = json.dumps(arguments, ensure_ascii=False)
    return f"{BEGIN}{CALL}function{SEP}{name}\n```json\n{body}\n```{CALL_END}{END}"


def render_v31(name: str, arguments: Mapping[str, Any]) -> str:
    """A call in the DeepSeek V3.1 form."""
    return f"{BEGIN}{CALL}{name}{SEP}{json.dumps(arguments, ensure_ascii=False)}{CALL_END}{END}"


DIALECT_V3 = Dialect("deepseek_v3", (Marker(BEGIN, scan_section),), render_v3, JSON_ARGUMENTS)
# V3.1 shares the V3 section marker; its scanner tells the two forms apart.
DIALECT_V31 = Dialect("deepseek_v31", (), render_v31, JSON_ARGUMENTS)
