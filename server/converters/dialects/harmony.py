"""gpt-oss Harmony messages; a call is a commentary message to `functions.NAME`.

    <|start|>assistant<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{...}<|call|>

The recipient may sit in the channel section or in the role header; `<|constrain|>` and
`<|call|>` are optional. Messages without a `functions.` recipient are not calls: their
header is dropped and their body is text up to `<|end|>` / `<|return|>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Found, Marker, Region, Scan
from ..jsonscan import json_end, load_json
from ..tape import Tape, find_within, optional_closer, peek_any, skip_ws
from ..xmlish import valid_name
from .rules import JSON_ARGUMENTS

START, CHANNEL, MESSAGE = "<|start|>", "<|channel|>", "<|message|>"
CALL, END, RETURN = "<|call|>", "<|end|>", "<|return|>"
_RECIPIENT = re.compile(r"\bto=([^\s<]+)")
# A message body runs to its end token; a new header also ends it when the end was stripped.
BODY = Region((END, RETURN, CALL), drop_closer=True, reopeners=(START, CHANNEL))
# The analysis channel is reasoning, never part of the answer (as in gpt-oss's own parser).
REASONING = Region(
    (END, RETURN, CALL), drop_closer=True, reopeners=(START, CHANNEL), drop_body=True
)
_CHANNEL = re.compile(r"<\|channel\|>\s*(\w+)")


def scan_message(t: Tape, ctx: Ctx) -> Scan:
    """Read one Harmony message header, and the body too when it is a function call."""
    body = yield from find_within(t, 0, MESSAGE, 256)
    if body < 0:
        return FAIL
    header = t.get(0, body)
    body += len(MESSAGE)
    recipient = _RECIPIENT.search(header)
    if recipient is None:
        channel = _CHANNEL.search(header)
        return Done(body, REASONING if channel and channel.group(1) == "analysis" else BODY)
    name = recipient.group(1).removeprefix("functions.")
    if name == recipient.group(1) or not valid_name(name):
        return FAIL  # built-in tools (browser.*, python) are not function calls
    k = yield from skip_ws(t, body)
    if (yield from peek_any(t, k, ("{",))) != 0:
        return FAIL
    end = yield from json_end(t, k)
    arguments = load_json(t, k, end) if end > 0 else None
    if not isinstance(arguments, dict):
        return FAIL
    stop = yield from optional_closer(t, end, CALL)
    if stop == end:
        stop = yield from optional_closer(t, end, END)
    yield Found(name, arguments, 0, stop)
    return Done(stop)


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as a Harmony commentary message."""
    body = json.dumps(arguments, ensure_ascii=False)
    header = f"{START}assistant{CHANNEL}commentary to=functions.{name} <|constrain|>json"
    return f"{header}{MESSAGE}{body}{CALL}"


DIALECT = Dialect(
    "harmony",
    (Marker(START, scan_message), Marker(CHANNEL, scan_message)),
    render_call,
    JSON_ARGUMENTS,
)
