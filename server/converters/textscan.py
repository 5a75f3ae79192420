"""The plain-text side of the stream: where markup may start, and what must be held back.

Text is classified as soon as it cannot become markup any more. What is held back is only a
tail that could still grow into a marker (`<tool_c`), up to three spaces or a backtick run at
a line start, or the first line of a possible fence closer. Think blocks and code fences are
tracked so that markup inside them stays text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from .base import Marker, Region

_INTERESTING = re.compile(r"[<\[\n]")
_HOLD = -2


@dataclass(frozen=True, slots=True)
class Opener:
    """A tag that opens a region whose markup is not a call, e.g. `<think>`."""

    text: str
    region: Region


OPENERS = (
    Opener("<think>", Region(("</think>",))),
    Opener("<thinking>", Region(("</thinking>",))),
    Opener("<seed:think>", Region(("</seed:think>",))),
)


class Tokens:
    """Tokens matched anywhere in text, and the proper prefixes of them to hold back."""

    def __init__(self, tokens: Iterable[str]) -> None:
        ordered = sorted(set(tokens), key=len, reverse=True)
        self.rx = re.compile("|".join(map(re.escape, ordered)))
        self.prefixes = frozenset(t[:i] for t in ordered for i in range(1, len(t)))
        self.longest = len(ordered[0])
        by_length = sorted(self.prefixes, key=len, reverse=True)
        self._tail = re.compile("(?:" + "|".join(map(re.escape, by_length)) + r")\Z")

    def partial_at(self, s: str, pos: int) -> bool:
        """Whether s[pos:], which runs to the end of s, could still grow into a token."""
        return len(s) - pos < self.longest and s[pos:] in self.prefixes

    def held_tail(self, s: str, pos: int) -> int:
        """Start of the longest tail of s[pos:] that could still grow into a token."""
        match = self._tail.search(s, max(pos, len(s) - self.longest))
        return len(s) if match is None else match.start()


class MarkerTable:
    """All markers by text: those that count anywhere, and those only at a line start."""

    def __init__(self, markers: Iterable[Marker], openers: Iterable[Opener] = OPENERS) -> None:
        self.anywhere: dict[str, Marker | Opener] = {}
        self.line: dict[str, Marker] = {}
        items: list[Marker | Opener] = [*markers, *openers]
        for item in items:
            if item.text in self.anywhere or item.text in self.line:
                raise ValueError(f"marker {item.text!r} is claimed twice")
            if isinstance(item, Marker) and item.line_start:
                self.line[item.text] = item
            elif item.text[:1] in ("<", "["):
                self.anywhere[item.text] = item
            else:
                raise ValueError(f"marker {item.text!r} must start with '<' or '['")
        self.tokens = Tokens(self.anywhere)


@lru_cache(maxsize=32)
def _region_tokens(region: Region) -> Tokens:
    return Tokens((*region.closers, *region.reopeners))


@dataclass(frozen=True, slots=True)
class Scanned:
    """Text to emit, then where a marker starts (or, with no marker, the held-back tail).

    `line_start` tells whether the marker starts a line (after at most three spaces).
    """

    pieces: tuple[str, ...]
    at: int
    marker: Marker | None
    line_start: bool = False


LineKind = Literal["hold", "none", "hit", "fence"]


@dataclass(slots=True)
class _Cursor:
    # Where one scan() call is: text emitted up to `start`, examined up to `pos`, and whether
    # `pos` is a line start still to be checked.
    s: str
    eof: bool
    fallback_ok: bool
    check: bool
    start: int = 0
    pos: int = 0
    pieces: list[str] = field(default_factory=list)


class TextScanner:
    """Classifies text between blocks; its state is the context at the start of the next text."""

    __slots__ = ("_table", "fence", "line_start", "region")

    def __init__(self, table: MarkerTable) -> None:
        self._table = table
        self.region: Region | None = None
        self.fence: str | None = None
        self.line_start = True

    def is_plain(self, s: str) -> bool:
        """Whether `s` is text as it stands and changes no state (the common, fast case)."""
        if self.region is not None or self.line_start:
            return False
        return _INTERESTING.search(s) is None if self.fence is None else "\n" not in s

    def scan(self, s: str, *, eof: bool, fallback_ok: bool) -> Scanned:
        """Classify `s` up to the first marker, or up to a tail that must wait for more text."""
        cur = _Cursor(s, eof, fallback_ok, check=self.line_start)
        while True:
            if self.region is not None:
                stop = self._region_step(cur)
            elif self.fence is not None:
                stop = self._fence_step(cur)
            else:
                stop = self._text_step(cur)
            if stop is not None:
                return stop

    def _text_step(self, cur: _Cursor) -> Scanned | None:
        s = cur.s
        if cur.check:
            cur.check = False
            kind, cur.pos, found = self._line(s, cur.pos, cur.eof, cur.fallback_ok)
            if kind == "hold":
                return self._stop(cur, cur.pos, None)
            if kind == "hit":
                assert isinstance(found, Marker)
                return self._stop(cur, cur.pos, found, line_start=True)
            if kind == "fence":
                self.fence = str(found)
                return None
        match = _INTERESTING.search(s, cur.pos)
        if match is None:
            return self._stop(cur, len(s), None)
        at = match.start()
        if s[at] == "\n":
            cur.pos, cur.check = at + 1, True
            return None
        hold, item = self._marker_at(s, at, cur.eof)
        if hold:
            return self._stop(cur, at, None)
        if isinstance(item, Marker) and _counts(item, s, at, cur.fallback_ok):
            return self._stop(cur, at, item)
        if isinstance(item, Opener):
            self.region, cur.pos = item.region, at + len(item.text)
        else:
            cur.pos = at + 1
        return None

    def _fence_step(self, cur: _Cursor) -> Scanned | None:
        close = self._fence_close(cur.s, cur.pos, cur.eof) if cur.check else -1
        cur.check = False
        if close == _HOLD:
            return self._stop(cur, cur.pos, None)
        if close >= 0:
            self.fence, cur.pos = None, close
            return None
        newline = cur.s.find("\n", cur.pos)
        if newline < 0:
            return self._stop(cur, len(cur.s), None)
        cur.pos, cur.check = newline + 1, True
        return None

    def _region_step(self, cur: _Cursor) -> Scanned | None:
        region = self.region
        assert region is not None
        tokens = _region_tokens(region)
        match = tokens.rx.search(cur.s, cur.pos)
        if match is None:
            at = len(cur.s) if cur.eof else tokens.held_tail(cur.s, cur.pos)
            if region.drop_body:
                cur.start = at
            return self._stop(cur, at, None)
        self.region, cur.check = None, False
        reopen = match.group() in region.reopeners
        if region.drop_body:
            cur.start = match.start() if reopen else match.end()
        elif region.drop_closer and not reopen:
            cur.pieces.append(cur.s[cur.start : match.start()])
            cur.start = match.end()
        cur.pos = match.start() if reopen else match.end()
        return None

    def _stop(
        self, cur: _Cursor, at: int, marker: Marker | None, *, line_start: bool = False
    ) -> Scanned:
        cur.pieces.append(cur.s[cur.start : at])
        if at > 0:
            self.line_start = cur.s[at - 1] == "\n"
        return Scanned(tuple(p for p in cur.pieces if p), at, marker, line_start)

    def _marker_at(self, s: str, at: int, eof: bool) -> tuple[bool, Marker | Opener | None]:
        tokens = self._table.tokens
        if not eof and tokens.partial_at(s, at):
            return True, None
        match = tokens.rx.match(s, at)
        return False, None if match is None else self._table.anywhere[match.group()]

    def _line(self, s: str, q: int, eof: bool, fallback_ok: bool) -> tuple[LineKind, int, object]:
        """What a line starting at `q` begins with: a line marker, a fence, or nothing."""
        n, j = len(s), q
        while j < n and j - q < 3 and s[j] == " ":
            j += 1
        if j == n:
            return ("none", j, None) if eof else ("hold", q, None)
        char = s[j]
        if char in "`~":
            run = _run_length(s, j)
            if j + run == n and not eof:
                return "hold", q, None
            if run < 3:
                return "none", j, None
            fenced = self._table.line.get("```")
            if char == "`" and fenced is not None and (fallback_ok or not fenced.fallback):
                return "hit", j, fenced
            return "fence", j + run, s[j : j + run]
        if char in "<[":
            # A marker that counts anywhere is found here when it starts the line, so that its
            # scanner learns it is at a line start whatever the chunking.
            hold, item = self._marker_at(s, j, eof)
            if hold:
                return "hold", q, None
            if isinstance(item, Marker) and _counts(item, s, j, fallback_ok):
                return "hit", j, item
            return "none", j, None
        marker = self._table.line.get(char)
        if marker is not None and _counts(marker, s, j, fallback_ok):
            return "hit", j, marker
        return "none", j, None

    def _fence_close(self, s: str, q: int, eof: bool) -> int:
        """End of a closing fence line at `q`, -1 if the line is not one, _HOLD if unsure."""
        assert self.fence is not None
        n, j = len(s), q
        while j < n and j - q < 3 and s[j] == " ":
            j += 1
        run = _run_length(s, j) if j < n and s[j] == self.fence[0] else 0
        k = j + run
        while k < n and s[k] in " \t":
            k += 1
        if k == n and not eof:
            return _HOLD
        if run < len(self.fence):
            return -1
        return k if k == n or s[k] in "\r\n" else -1


def _counts(marker: Marker, s: str, at: int, fallback_ok: bool) -> bool:
    """Whether a marker at `at` starts a block: allowed here, and not already shown to be text."""
    if marker.fallback and not fallback_ok:
        return False
    return marker.not_markup is None or marker.not_markup.match(s, at) is None


def _run_length(s: str, pos: int) -> int:
    char, end = s[pos], pos
    while end < len(s) and s[end] == char:
        end += 1
    return end - pos
