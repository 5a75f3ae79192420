"""Llama 3.x JSON: `<|python_tag|>{"name": ..., "parameters": {...}}`, several separated by `;`.

Without the tag the same objects are the bare-JSON fallback (see bare_json).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Found, Marker, Scan
from ..jsonscan import call_from_json, json_end, load_json
from ..tape import Tape, peek_any, skip_ws
from .rules import JSON_ARGUMENTS

TAG = "<|python_tag|>"
_ENDS = ("<|eom_id|>", "<|eot_id|>")


def scan_tagged(t: Tape, ctx: Ctx) -> Scan:
    """Read call objects after `<|python_tag|>` until something else follows."""
    k = stop = len(TAG)
    found = False
    while True:
        k = yield from skip_ws(t, k)
        which = yield from peek_any(t, k, ("{", TAG, ";", *_ENDS))
        if which == 0:
            end = yield from json_end(t, k)
            call = call_from_json(load_json(t, k, end)) if end > 0 else None
            if call is None:
                break
            yield Found(call[0], call[1], k, end)
            found, k = True, end
        elif which > 0:
            k += len((TAG, ";", *_ENDS)[which - 1])
        else:
            break
        stop = k
    return Done(stop) if found else FAIL


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as a Llama 3 JSON object."""
    return TAG + json.dumps({"name": name, "parameters": arguments}, ensure_ascii=False)


DIALECT = Dialect("llama3_json", (Marker(TAG, scan_tagged),), render_call, JSON_ARGUMENTS)
