"""Converter output events, the parse result types, and the fold from one to the other."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class TextOut:
    """Plain content text, safe to forward to the client as `delta.content`."""

    text: str


@dataclass(frozen=True, slots=True)
class CallStart:
    """A tool call begins: its index, OpenAI-style id and complete name, sent once."""

    index: int
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class CallArgs:
    """A piece of a call's arguments; the pieces of one index join to the final JSON."""

    index: int
    fragment: str


@dataclass(frozen=True, slots=True)
class CallEnd:
    """A tool call is complete: its final arguments JSON and any schema problems."""

    index: int
    arguments: str
    problems: tuple[str, ...]


# A closed union: consumers match on exactly these four types.
ConverterEvent: TypeAlias = TextOut | CallStart | CallArgs | CallEnd


@dataclass(frozen=True, slots=True)
class ParsedCall:
    """One tool call of a whole-text parse."""

    id: str
    name: str
    arguments: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Content text (None when the answer is only calls) and the calls, in order."""

    content: str | None
    calls: tuple[ParsedCall, ...]


def fold_events(events: Iterable[ConverterEvent]) -> ParseResult:
    """Fold a complete event sequence into one ParseResult."""
    text: list[str] = []
    starts: dict[int, CallStart] = {}
    ends: dict[int, CallEnd] = {}
    for event in events:
        if isinstance(event, TextOut):
            text.append(event.text)
        elif isinstance(event, CallStart):
            starts[event.index] = event
        elif isinstance(event, CallEnd):
            ends[event.index] = event
    calls = tuple(
        ParsedCall(starts[i].id, starts[i].name, ends[i].arguments, ends[i].problems)
        for i in sorted(starts)
        if i in ends
    )
    content = "".join(text)
    if calls:
        # Whitespace around and between call blocks is layout, not an answer.
        return ParseResult(content.strip() or None, calls)
    return ParseResult(content, calls)
