"""Helpers for the XML-style dialects, whose raw values carry no escaping."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeAlias, TypeVar

from .tape import Step, Tape, find, peek_any, skip_ws

T = TypeVar("T")
# Reads one parameter from just after its opening tag: the parameter and the offset after it.
ParamReader: TypeAlias = Callable[[Tape, int], Step[tuple[T, int] | None]]

_NAME = re.compile(r"[\w.\-:]{1,128}")


def valid_name(name: str) -> bool:
    """Whether text can be a tool or parameter name (no spaces, no markup)."""
    return _NAME.fullmatch(name) is not None


def attribute(attrs: str, name: str) -> str | None:
    """The value of `name="..."` (or single-quoted) in a tag's attribute text."""
    match = re.search(rf"(?<![\w-]){re.escape(name)}\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", attrs)
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def call_body(
    t: Tape, pos: int, opener: str, closer: str, read: ParamReader[T]
) -> Step[tuple[list[T], int] | None]:
    """The parameters of one call up to its own closing tag, and the offset after that tag.

    Each parameter starts with `opener` and is read by `read`. None when the body is malformed
    or the text ends before `closer`: XML-style parameters carry no count, so only the call's
    own closing tag shows that its arguments are complete, and a call cut off before it is
    truncated markup (vLLM's GLM parser keeps it as text too). Only a wrapper around a closed
    call (`</tool_call>` after `</function>`, `</function_calls>`) may be missing.
    """
    params: list[T] = []
    k = pos
    while True:
        k = yield from skip_ws(t, k)
        which = yield from peek_any(t, k, (opener, closer))
        if which == 1:
            return params, k + len(closer)
        param = (yield from read(t, k + len(opener))) if which == 0 else None
        if param is None:
            return None
        params.append(param[0])
        k = param[1]


def value_end(
    t: Tape,
    pos: int,
    closer: str,
    siblings: tuple[str, ...],
    parent_close: str,
    after_parent: tuple[str, ...] | None,
) -> Step[int]:
    """Offset of the `closer` that really ends a raw value starting at `pos`, or -1.

    A closer inside a value is only the real end when the next token is structurally expected:
    a sibling opener, or the parent's closer (itself followed by one of `after_parent`, when
    given). A closer followed only by the end of input also counts.
    """
    while True:
        j = yield from find(t, pos, closer)
        if j < 0:
            return -1
        if (yield from _closes(t, j + len(closer), siblings, parent_close, after_parent)):
            return j
        pos = j + 1


def _closes(
    t: Tape,
    pos: int,
    siblings: tuple[str, ...],
    parent_close: str,
    after_parent: tuple[str, ...] | None,
) -> Step[bool]:
    k = yield from skip_ws(t, pos)
    if k >= t.end:
        return True
    which = yield from peek_any(t, k, (*siblings, parent_close))
    if which < 0:
        return False
    if which < len(siblings) or after_parent is None:
        return True
    k = yield from skip_ws(t, k + len(parent_close))
    return k >= t.end or (yield from peek_any(t, k, after_parent)) >= 0


def trim_newlines(raw: str) -> str:
    """Drop exactly one leading and one trailing line break (the Qwen3-Coder value layout).

    As in vLLM and SGLang, only the line break after the opening tag and the one before the
    closing tag are layout; any other whitespace in a string value is the model's content.
    A CRLF counts as one line break.
    """
    start = 2 if raw.startswith("\r\n") else 1 if raw.startswith("\n") else 0
    end = len(raw) - (2 if raw.endswith("\r\n") else 1 if raw.endswith("\n") else 0)
    return raw[start : max(start, end)]
