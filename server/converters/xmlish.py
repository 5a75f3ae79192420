"""Helpers for the XML-style dialects, whose raw values carry no escaping."""

from __future__ import annotations

import re

from .tape import Step, Tape, find, peek_any, skip_ws

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
