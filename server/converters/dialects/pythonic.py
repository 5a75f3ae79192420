"""Pythonic calls (Llama 3.2/4, ToolACE): `[f(a=1), g(b='x')]`.

Optionally wrapped in `<|python_start|>` … `<|python_end|>`.

Arguments must be Python literals. When tools were offered, an unwrapped list counts anywhere,
prose before and after it included (as SGLang's detector reads it), if every name is an offered
tool. Without tools the names cannot be checked, so a list counts only when it fills its line.
A `[{` list at a line start is handed to the bare-JSON fallback.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from ..base import FAIL, Ctx, Dialect, Done, Found, Marker, Scan
from ..coerce import to_json_value
from ..tape import Step, Tape, need, optional_closer, peek_any, scan_to, skip_ws
from . import bare_json

START, END = "<|python_start|>", "<|python_end|>"
_NOT_IDENT = re.compile(r"[^\w.]")
_LINE_END = re.compile(r"[^ \t]")
_OUTSIDE = re.compile(r"['\"()\[\]{}]")
_INSIDE = {"'": re.compile(r"['\\\n]"), '"': re.compile(r'["\\\n]')}
_PAIRS = {"(": ")", "[": "]", "{": "}"}
# What scan_list rejects at once, seen from the text alone: `[` then neither `{` nor a name; a
# name not followed by `(` ("[the docs]", "a[i]", "[link](…)"); or `name(` followed by neither
# `)` nor `key=` ("[f(x)]"). Possessive, so a name is never cut short to fake a mismatch.
_NOT_A_LIST = re.compile(
    r"\[\s*+(?:[^\w\s{]|\d|[\w.]++\s*+(?:[^(]|\(\s*+(?:[^\w.\s)]|[\w.]++\s*+(?:[^=]|==))))"
)

Calls = list[tuple[str, dict[str, Any]]]


def scan_wrapped(t: Tape, ctx: Ctx) -> Scan:
    """Read a call list between `<|python_start|>` and `<|python_end|>`."""
    k = yield from skip_ws(t, len(START))
    listed = yield from _call_list(t, ctx, k)
    if listed is None:
        return FAIL
    stop = yield from optional_closer(t, listed[1], END)
    for name, arguments in listed[0]:
        yield Found(name, arguments, 0, stop)
    return Done(stop)


def scan_list(t: Tape, ctx: Ctx) -> Scan:
    """Read a `[`: a pythonic call list, or (at a line start) a JSON list of calls."""
    if not ctx.tools.given and not ctx.line_start:
        return FAIL  # brackets in prose, and no tool names to tell a call list from them
    k = yield from skip_ws(t, 1)
    if (yield from peek_any(t, k, ("{",))) == 0:
        return (yield from bare_json.scan_array(t, ctx, 0)) if ctx.line_start else FAIL
    listed = yield from _call_list(t, ctx, 0)
    if listed is None:
        return FAIL
    if not ctx.tools.given:
        rest = yield from scan_to(t, listed[1], _LINE_END, 1 << 30)
        if rest >= 0 and t.char(rest) != "\n" and t.char(rest) != "\r":
            return FAIL  # prose goes on after the brackets: a bracketed aside, not a call list
    for name, arguments in listed[0]:
        yield Found(name, arguments, 0, listed[1])
    return Done(listed[1])


def _call_list(t: Tape, ctx: Ctx, pos: int) -> Step[tuple[Calls, int] | None]:
    if not (yield from _plausible(t, ctx, pos)):
        return None
    end = yield from _python_end(t, pos)
    calls = _evaluate(t.get(pos, end)) if end > 0 else None
    if not calls or not all(ctx.tools.known(name) for name, _ in calls):
        return None
    return calls, end


def _plausible(t: Tape, ctx: Ctx, pos: int) -> Step[bool]:
    # `[name(` with an offered name, then `)` or `key=`: anything else is prose and is released
    # at once.
    k = yield from skip_ws(t, pos + 1)
    name_end = yield from scan_to(t, k, _NOT_IDENT, 128)
    name = t.get(k, name_end)
    if name_end <= k or not name[0].isidentifier() or not ctx.tools.known(name):
        return False
    k = yield from skip_ws(t, name_end)
    if (yield from peek_any(t, k, ("(",))) != 0:
        return False
    k = yield from skip_ws(t, k + 1)
    if (yield from peek_any(t, k, (")",))) == 0:
        return True
    key_end = yield from scan_to(t, k, _NOT_IDENT, 128)
    if key_end <= k:
        return False
    k = yield from skip_ws(t, key_end)
    return (yield from peek_any(t, k, ("==", "="))) == 1


def _python_end(t: Tape, pos: int) -> Step[int]:
    """Offset just past the bracket that closes the one at `pos`, string-aware; -1 if none."""
    closers: list[str] = []
    quote = ""
    while True:
        hit = t.search(_INSIDE[quote] if quote else _OUTSIDE, pos)
        if hit is None:
            pos = t.end
        else:
            at, char = hit
            pos = at + 1
            if quote and char == "\\":
                if not (yield from need(t, at + 1)):
                    return -1
                pos = at + 2
            elif quote:
                if char == "\n":
                    return -1
                quote = ""
            elif char in "'\"":
                quote = char
            elif char in _PAIRS:
                closers.append(_PAIRS[char])
            elif not closers or closers.pop() != char:
                return -1
            elif not closers:
                return at + 1
            continue
        if t.eof:
            return -1
        t.release(pos)
        yield


def _evaluate(source: str) -> Calls | None:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(tree.body, ast.List):
        return None
    calls: Calls = []
    for node in tree.body.elts:
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.args:
            return None
        try:
            arguments = {
                kw.arg: to_json_value(ast.literal_eval(kw.value)) for kw in node.keywords if kw.arg
            }
        except (ValueError, TypeError, SyntaxError, RecursionError):
            return None
        if len(arguments) != len(node.keywords):
            return None  # **kwargs
        calls.append((node.func.id, arguments))
    return calls


def _python(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_python(k)}: {_python(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_python(v) for v in value) + "]"
    return repr(value)


def render_call(name: str, arguments: Mapping[str, Any]) -> str:
    """A call as a one-element pythonic list."""
    return f"[{name}(" + ", ".join(f"{k}={_python(v)}" for k, v in arguments.items()) + ")]"


DIALECT = Dialect(
    "pythonic",
    (Marker(START, scan_wrapped), Marker("[", scan_list, not_markup=_NOT_A_LIST)),
    render_call,
    "Write the arguments as keyword arguments with Python literal values.",
)
