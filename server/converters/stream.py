"""The streaming converter: text chunks in, content and tool-call events out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import Ctx, Done, Found, Marker, Outcome, Scan
from .events import CallArgs, CallEnd, CallStart, ConverterEvent, TextOut
from .ids import new_call_id
from .registry import default_table
from .tape import Tape
from .textscan import TextScanner
from .toolindex import ToolIndex
from .validate import check_arguments

_SLICE = 1024


@dataclass(slots=True)
class _Block:
    # One piece of markup being read: its scanner, its text, and what it has produced so far.
    marker: Marker
    tape: Tape
    scan: Scan
    accepted: int = 0
    consumed: int = 0
    rejected: list[Found] = field(default_factory=list)


class StreamingParser:
    """Turns model text into content and tool-call events while it streams.

    feed() returns the events that the text so far settles; finish() settles the rest. Text
    is forwarded at once except a tail that could still be markup. A call goes out once it is
    complete (CallStart, CallArgs, CallEnd), so a truncated or malformed call is never half
    sent: it comes back as text. parse() is this class fed the whole text at once.
    """

    def __init__(
        self, tools: Sequence[Mapping[str, Any]] | None = None, *, enabled: bool = True
    ) -> None:
        self._tools = ToolIndex.from_tools(tools)
        self._enabled = enabled
        self._text = TextScanner(default_table())
        self._pending = ""
        self._block: _Block | None = None
        self._native_seen = False
        self._count = 0
        self._ids: set[str] = set()
        self._out: list[ConverterEvent] = []
        self._texts: list[str] = []
        self._finished = False

    def feed(self, text: str) -> list[ConverterEvent]:
        """Add model text; returns the events it settles."""
        if self._finished:
            raise RuntimeError("feed() called after finish()")
        if not self._enabled:
            return [TextOut(text)] if text else []
        if self._block is None and not self._pending and self._text.is_plain(text):
            return [TextOut(text)] if text else []
        # Long texts go in bounded slices: every chunking gives the same result, and slices keep
        # the per-block copies of "the rest of the text" short, so parse() of a huge answer
        # with many calls stays linear.
        for start in range(0, len(text), _SLICE):
            self._run(text[start : start + _SLICE], eof=False)
        return self._take()

    def finish(self) -> list[ConverterEvent]:
        """End of the model's answer: settle everything still held back."""
        if self._finished or not self._enabled:
            self._finished = True
            return []
        self._finished = True
        self._run("", eof=True)
        return self._take()

    def _run(self, text: str, eof: bool) -> None:
        if self._block is not None:
            self._block.tape.append(text)
            self._block.tape.eof = eof
            leftover = self._resume(self._block)
        else:
            leftover = self._pending + text
        while leftover is not None:
            scanned = self._text.scan(leftover, eof=eof, fallback_ok=self._fallback_ok())
            self._emit_text(*scanned.pieces)
            if scanned.marker is None:
                self._pending = leftover[scanned.at :]
                return
            tape = Tape(leftover[scanned.at :], eof=eof)
            ctx = Ctx(self._tools, self._fallback_ok(), scanned.line_start)
            self._block = _Block(scanned.marker, tape, scanned.marker.scan(tape, ctx))
            leftover = self._resume(self._block)
        self._pending = ""

    def _resume(self, block: _Block) -> str | None:
        """Run the block's scanner; the text after the block, or None while it needs more."""
        while True:
            try:
                item = block.scan.send(None)
            except StopIteration as stop:
                self._block = None
                return self._settle(block, stop.value)
            if item is None:
                if block.tape.eof:
                    raise RuntimeError(f"scanner for {block.marker.text!r} waited past the end")
                return None
            self._found(block, item)

    def _found(self, block: _Block, found: Found) -> None:
        if not self._tools.known(found.name):
            # An unknown tool's markup is content; it waits until the block shows whether
            # the whole block is to come back as text.
            if block.accepted:
                self._emit_text(block.tape.get(found.start, found.end))
                block.consumed = found.end
            else:
                block.rejected.append(found)
            return
        if not block.accepted:
            self._emit_text(*(block.tape.get(r.start, r.end) for r in block.rejected))
        block.accepted += 1
        block.consumed = found.end
        self._native_seen = self._native_seen or not block.marker.fallback
        self._emit_call(found.name, found.arguments)

    def _settle(self, block: _Block, outcome: Outcome) -> str:
        tape = block.tape
        self._text.line_start = False
        if isinstance(outcome, Done):
            if not block.accepted and block.rejected:
                self._emit_text(tape.get(0, outcome.end))
            self._text.region = outcome.region
            return tape.get(outcome.end, tape.end)
        if block.accepted:
            return tape.get(block.consumed, tape.end)
        self._emit_text(tape.get(0, outcome.skip))
        self._text.fence = outcome.fence
        return tape.get(outcome.skip, tape.end)

    def _emit_call(self, name: str, arguments: dict[str, Any]) -> None:
        text = json.dumps(arguments, ensure_ascii=False)
        problems = check_arguments(arguments, self._tools.parameters(name))
        self._flush_text()
        index, self._count = self._count, self._count + 1
        call_id = new_call_id()
        while call_id in self._ids:
            call_id = new_call_id()
        self._ids.add(call_id)
        self._out += [
            CallStart(index, call_id, name),
            CallArgs(index, text),
            CallEnd(index, text, problems),
        ]

    def _emit_text(self, *texts: str) -> None:
        # Collected and joined once, so adjacent pieces become one TextOut without re-copying.
        self._texts.extend(texts)

    def _flush_text(self) -> None:
        text = "".join(self._texts)
        self._texts.clear()
        if text:
            self._out.append(TextOut(text))

    def _fallback_ok(self) -> bool:
        return self._tools.given and not self._native_seen

    def _take(self) -> list[ConverterEvent]:
        self._flush_text()
        out, self._out = self._out, []
        return out
