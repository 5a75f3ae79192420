"""Types shared by the scanning machinery: what a scanner yields and returns, markers, dialects."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from .tape import Tape
from .toolindex import ToolIndex


@dataclass(frozen=True, slots=True)
class Found:
    """A complete call a scanner recognised, spanning [start, end) of its tape."""

    name: str
    arguments: dict[str, Any]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Region:
    """Text after an opener in which markup is not a call (e.g. a <think> block).

    The region ends at one of `closers` (kept as text, or dropped when `drop_closer`), or just
    before one of `reopeners`, which are then scanned as ordinary markup. With `drop_body` the
    text inside is not content at all (Harmony reasoning).
    """

    closers: tuple[str, ...]
    drop_closer: bool = False
    reopeners: tuple[str, ...] = ()
    drop_body: bool = False


@dataclass(frozen=True, slots=True)
class Done:
    """The block is markup up to `end`; text after it may open a region."""

    end: int
    region: Region | None = None


@dataclass(frozen=True, slots=True)
class Fail:
    """Not markup after all: the first `skip` characters are text, then scanning resumes.

    `fence` is set when the skipped text opened a markdown code fence.
    """

    skip: int = 1
    fence: str | None = None


FAIL = Fail()
Outcome: TypeAlias = Done | Fail
# Scanners yield None to ask for more text and Found for each complete call.
Scan: TypeAlias = Generator[Found | None, None, Outcome]


@dataclass(frozen=True, slots=True)
class Ctx:
    """What a scanner may consult: the offered tools, whether JSON fallbacks are allowed, and
    whether its marker starts a line (after at most three spaces)."""

    tools: ToolIndex
    fallback_ok: bool
    line_start: bool = False


Scanner: TypeAlias = Callable[[Tape, Ctx], Scan]


@dataclass(frozen=True, slots=True)
class Marker:
    """Text that may start a block of markup, and the scanner that reads the block.

    Markers start with `<` or `[` and count anywhere, except `line_start` ones (`{`, a ```
    fence), which count only at the start of a line. `fallback` markers count only when
    tools were offered and no native call has been seen yet. `not_markup`, matched at the
    marker, shows from the text alone that the scanner would fail on its first character
    (`Fail(skip=1)`), so no block is started: a cheap filter for a marker as common as `[`.
    It may only match when that failure is certain whatever text follows.
    """

    text: str
    scan: Scanner
    line_start: bool = False
    fallback: bool = False
    not_markup: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Dialect:
    """One tool-call syntax: where its markup starts, and how to write a call in it."""

    name: str
    markers: tuple[Marker, ...]
    render_call: Callable[[str, Mapping[str, Any]], str]
    argument_rule: str
