"""Anthropic-style XML, as Claude writes calls when it has no native tools.

    <function_calls><invoke name="N"><parameter name="k">v</parameter></invoke></function_calls>

Also the `antml:` namespaced tags, DeepSeek-V3.2 DSML (`<｜DSML｜invoke ...>`, whose
`string="false"` flag marks JSON values), MiniMax-M2's `<minimax:tool_call>` wrapper, and a
bare `<invoke>` without any wrapper.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Found, Marker, Scan
from ..coerce import coerce_params
from ..tape import Step, Tape, peek_any, scan_to, skip_ws
from ..xmlish import attribute, call_body, valid_name, value_end
from .rules import RAW_ARGUMENTS

PREFIXES = ("", "antml:", "｜DSML｜")
_GT = re.compile(r">")


@dataclass(frozen=True, slots=True)
class _Tags:
    calls: str
    calls_end: str
    invoke: str
    invoke_end: str
    param: str
    param_end: str

    @classmethod
    def for_prefix(cls, p: str) -> _Tags:
        return cls(
            f"<{p}function_calls>",
            f"</{p}function_calls>",
            f"<{p}invoke",
            f"</{p}invoke>",
            f"<{p}parameter",
            f"</{p}parameter>",
        )


def scan_calls(tags: _Tags, t: Tape, ctx: Ctx) -> Scan:
    """Read a `<function_calls>` block holding one or more invokes."""
    k = len(tags.calls)
    found = False
    while True:
        k = yield from skip_ws(t, k)
        which = yield from peek_any(t, k, (tags.invoke, tags.calls_end))
        if which == 1 and found:
            return Done(k + len(tags.calls_end))
        invoke = (yield from _invoke(t, ctx, tags, k, wrapped=True)) if which == 0 else None
        if invoke is None:
            # Earlier complete invokes stand; what follows is scanned again as text.
            return Done(k) if found else FAIL
        yield invoke
        found, k = True, invoke.end


def scan_invoke(tags: _Tags, t: Tape, ctx: Ctx) -> Scan:
    """Read a bare `<invoke>` written without the `<function_calls>` wrapper."""
    invoke = yield from _invoke(t, ctx, tags, 0, wrapped=False)
    if invoke is None:
        return FAIL
    yield invoke
    return Done(invoke.end)


def _invoke(t: Tape, ctx: Ctx, tags: _Tags, pos: int, *, wrapped: bool) -> Step[Found | None]:
    head = yield from _tag(t, pos + len(tags.invoke))
    name = attribute(head[0], "name") if head else None
    if head is None or name is None or not valid_name(name):
        return None
    after = (tags.invoke, tags.calls_end) if wrapped else None
    body = yield from call_body(t, head[1], tags.param, tags.invoke_end, partial(_param, tags, after))
    if body is None:
        return None
    params, end = body
    arguments = coerce_params(ctx.tools.parameters(name), [(key, raw) for key, raw, _ in params])
    for key, _, is_json in params:
        if is_json:
            arguments[key] = _json_or_text(arguments[key])
    return Found(name, arguments, pos, end)


def _param(
    tags: _Tags, after: tuple[str, ...] | None, t: Tape, pos: int
) -> Step[tuple[tuple[str, str, bool], int] | None]:
    # One `<parameter name="k">raw</parameter>`; DSML's string="false" marks a JSON value.
    param = yield from _tag(t, pos)
    key = attribute(param[0], "name") if param else None
    if param is None or key is None:
        return None
    end = yield from value_end(t, param[1], tags.param_end, (tags.param,), tags.invoke_end, after)
    if end < 0:
        return None
    is_json = attribute(param[0], "string") == "false"
    return (key, t.get(param[1], end), is_json), end + len(tags.param_end)


def _tag(t: Tape, pos: int) -> Step[tuple[str, int] | None]:
    # The rest of an opening tag: whitespace, attributes, `>`.
    end = yield from scan_to(t, pos, _GT, 512)
    attrs = t.get(pos, end)
    if end < 0 or not attrs[:1].isspace():
        return None
    return attrs, end + 1


def _json_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as an Anthropic-style block."""
    lines = ["<function_calls>", f'<invoke name="{name}">']
    for key, value in arguments.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f'<parameter name="{key}">{text}</parameter>')
    lines += ["</invoke>", "</function_calls>"]
    return "\n".join(lines)


# MiniMax-M2 wraps plain invokes in its own tag instead of <function_calls>.
_MINIMAX = _Tags(
    "<minimax:tool_call>",
    "</minimax:tool_call>",
    "<invoke",
    "</invoke>",
    "<parameter",
    "</parameter>",
)


def _markers() -> tuple[Marker, ...]:
    markers = [Marker(_MINIMAX.calls, partial(scan_calls, _MINIMAX))]
    for prefix in PREFIXES:
        tags = _Tags.for_prefix(prefix)
        markers.append(Marker(tags.calls, partial(scan_calls, tags)))
        markers.append(Marker(tags.invoke, partial(scan_invoke, tags)))
    return tuple(markers)


DIALECT = Dialect("claude_xml", _markers(), render_call, RAW_ARGUMENTS)
