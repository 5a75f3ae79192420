"""The growing text of one markup block, and the waiting primitives dialect scanners share.

A scanner is a generator that reads a Tape and yields None whenever it needs more text, so
no decision is ever taken on a prefix that later text could change: this is what makes every
chunking of an input give the same result. Primitives keep their own scan position and never
go back over text they have passed, so the work stays linear in the input.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Generator
from typing import TypeAlias, TypeVar

T = TypeVar("T")
Step: TypeAlias = Generator[None, None, T]

_WS = re.compile(r"\s*")
_COMPACT_AFTER = 256


class Tape:
    """Text of one block, readable by absolute offset while it grows."""

    __slots__ = ("_base", "_buf", "_keep", "_parts", "_starts", "eof")

    def __init__(self, text: str = "", *, eof: bool = False) -> None:
        self._parts: list[str] = []
        self._starts: list[int] = []
        self._base = 0
        self._buf = text
        self._keep = 0
        self.eof = eof

    @property
    def end(self) -> int:
        """Offset just past the last character received."""
        return self._base + len(self._buf)

    @property
    def working_length(self) -> int:
        """Length of the working string an append copies (stays short while scanning moves on)."""
        return len(self._buf)

    def append(self, text: str) -> None:
        """Add text at the end."""
        cut = self._keep - self._base
        if cut > _COMPACT_AFTER:
            # Only the short unreleased tail is copied on each append, so a long argument
            # fed one character at a time costs linear, not quadratic, time.
            self._parts.append(self._buf[:cut])
            self._starts.append(self._base)
            self._buf = self._buf[cut:]
            self._base += cut
        self._buf += text

    def release(self, pos: int) -> None:
        """Promise that searches will not start before `pos` again."""
        self._keep = max(self._keep, pos)

    def get(self, start: int, stop: int) -> str:
        """The text between two offsets (clamped to what has arrived)."""
        stop = min(stop, self.end)
        if start >= stop:
            return ""
        if start >= self._base:
            return self._buf[start - self._base : stop - self._base]
        pieces: list[str] = []
        k = max(bisect.bisect_right(self._starts, start) - 1, 0)
        while k < len(self._parts) and self._starts[k] < stop:
            first = self._starts[k]
            pieces.append(self._parts[k][max(start - first, 0) : stop - first])
            k += 1
        if stop > self._base:
            pieces.append(self._buf[: stop - self._base])
        return "".join(pieces)

    def char(self, pos: int) -> str:
        """The character at `pos`, or "" when it has not arrived."""
        return self.get(pos, pos + 1)

    def find(self, sub: str, pos: int) -> int:
        """Offset of the first `sub` at or after `pos`, or -1."""
        text, local, offset = self._view(pos)
        found = text.find(sub, local)
        return -1 if found < 0 else found + offset

    def search(self, pattern: re.Pattern[str], pos: int) -> tuple[int, str] | None:
        """Offset and text of the first match at or after `pos`."""
        text, local, offset = self._view(pos)
        match = pattern.search(text, local)
        return None if match is None else (match.start() + offset, match.group())

    def skip_ws(self, pos: int) -> int:
        """Offset of the first non-whitespace character at or after `pos` (or the end)."""
        text, local, offset = self._view(pos)
        match = _WS.match(text, local)
        assert match is not None  # \s* always matches
        return match.end() + offset

    def _view(self, pos: int) -> tuple[str, int, int]:
        if pos >= self._base:
            return self._buf, pos - self._base, self._base
        return self.get(pos, self.end), 0, pos


def need(t: Tape, pos: int) -> Step[bool]:
    """Wait until `pos` holds a character; False at the end of input."""
    while pos >= t.end:
        if t.eof:
            return False
        yield
    return True


def skip_ws(t: Tape, pos: int) -> Step[int]:
    """Offset of the next non-whitespace character; t.end only at the end of input."""
    while True:
        pos = t.skip_ws(pos)
        if pos < t.end or t.eof:
            return pos
        yield


def peek_any(t: Tape, pos: int, options: tuple[str, ...]) -> Step[int]:
    """Index of the (longest) option the text at `pos` starts with, or -1 once none can match."""
    longest = max(len(option) for option in options)
    while True:
        head = t.get(pos, pos + longest)
        # Wait while a longer option is still possible: "```" must not win over "```json"
        # just because the chunk ended early.
        if t.eof or not any(len(o) > len(head) and o.startswith(head) for o in options):
            matches = [i for i, option in enumerate(options) if head.startswith(option)]
            return max(matches, key=lambda i: len(options[i])) if matches else -1
        yield


def find(t: Tape, pos: int, sub: str) -> Step[int]:
    """Offset of the next `sub`, or -1 at the end of input; releases the text it passed."""
    while True:
        found = t.find(sub, pos)
        if found >= 0:
            return found
        if t.eof:
            return -1
        pos = max(pos, t.end - len(sub) + 1)
        t.release(pos)
        yield


def find_within(t: Tape, pos: int, sub: str, limit: int) -> Step[int]:
    """Offset of `sub` if it starts within `limit` characters of `pos`, else -1."""
    start = pos
    while True:
        found = t.find(sub, pos)
        if found >= 0:
            return found if found - start <= limit else -1
        if t.eof or t.end - start > limit + len(sub):
            return -1
        pos = max(pos, t.end - len(sub) + 1)
        yield


def scan_to(t: Tape, pos: int, pattern: re.Pattern[str], limit: int) -> Step[int]:
    """Offset of the first character matching a one-character `pattern` within `limit`, else -1."""
    start = pos
    while True:
        hit = t.search(pattern, pos)
        if hit is not None:
            return hit[0] if hit[0] - start <= limit else -1
        if t.eof or t.end - start > limit:
            return -1
        pos = t.end
        yield


def optional_closer(t: Tape, pos: int, closer: str) -> Step[int]:
    """Offset after `closer` when only whitespace separates it from `pos`, else `pos`."""
    k = yield from skip_ws(t, pos)
    if (yield from peek_any(t, k, (closer,))) == 0:
        return k + len(closer)
    return pos


def closer_or_end(t: Tape, pos: int, closer: str) -> Step[int]:
    """Offset after `closer` (after whitespace), `pos` when input ends first, else -1."""
    k = yield from skip_ws(t, pos)
    if k >= t.end:
        return pos
    if (yield from peek_any(t, k, (closer,))) == 0:
        return k + len(closer)
    return -1
