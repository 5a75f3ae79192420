"""The answer's output events as Responses output items and their stream events.

One state machine for both paths: the stream sends every event it yields; the non-stream path
keeps only the finished items. Items open on their first event and close when another kind of
output starts or the answer ends:
- text: `message` with one `output_text` part (`output_item.added`, `content_part.added`,
  `output_text.delta`…, `output_text.done`, `content_part.done`, `output_item.done`);
  whitespace alone (between calls) opens nothing;
- reasoning: `reasoning` with one `reasoning_text` part, the same way with `reasoning_text.*`;
- a tool call: `function_call` (`output_item.added`, `function_call_arguments.delta`…,
  `.done`, `output_item.done`), with `namespace` when the tool came from one.
Codex acts only on `output_item.done`, so every item gets one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from server.converters import CallArgs, CallEnd, CallStart, TextOut
from server.pipeline.events import OutputEvent, ReasoningOut
from server.protocol.responses_tools import ToolNames

ResponseEvent = dict[str, Any]  # one stream event without its sequence_number


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


@dataclass(slots=True)
class _Open:
    """An item being streamed: its place in `output`, its item, and the text so far."""

    index: int
    item: dict[str, Any]
    pieces: list[str] = field(default_factory=list)


class OutputItems:
    """Feeds on output events; yields stream events and keeps the finished items in order."""

    def __init__(self, names: ToolNames) -> None:
        self._names = names
        self._output: list[dict[str, Any] | None] = []  # None while an item is open
        self._current: _Open | None = None  # the open message or reasoning item
        self._calls: dict[int, _Open] = {}  # open calls by their index in the answer
        self._pending_space = ""  # whitespace that opens nothing unless text follows
        self.problems: list[str] = []  # schema problems of calls (for a warning header)

    @property
    def done_items(self) -> list[dict[str, Any]]:
        """The finished items, in output order."""
        return [item for item in self._output if item is not None]

    def feed(self, event: OutputEvent) -> list[ResponseEvent]:
        """The stream events for one output event (`Completed` is the caller's to handle)."""
        if isinstance(event, TextOut):
            return self._text(event.text)
        if isinstance(event, ReasoningOut):
            return self._reasoning(event.text)
        if isinstance(event, CallStart):
            return [*self._close_current(), *self._start_call(event)]
        if isinstance(event, CallArgs):
            call = self._calls[event.index]
            call.pieces.append(event.fragment)
            if not event.fragment:
                return []
            return [{"type": "response.function_call_arguments.delta", "item_id": call.item["id"],
                     "output_index": call.index, "delta": event.fragment}]
        if isinstance(event, CallEnd):
            self.problems += [f"{event.index}: {p}" for p in event.problems]
            return self._end_call(self._calls.pop(event.index), event.arguments)
        return []

    def finish(self, status: str = "completed") -> list[ResponseEvent]:
        """Close what is open; an answer with no items at all gets one empty message."""
        events = self._close_current(status)
        for index in sorted(self._calls):
            call = self._calls.pop(index)
            events += self._end_call(call, "".join(call.pieces) or "{}", status)
        if not self._output:
            events += self._open("message")
            events += self._close_current(status)
        return events

    def _text(self, text: str) -> list[ResponseEvent]:
        current = self._current
        if current is None or current.item["type"] != "message":
            if not text.strip():
                self._pending_space += text
                return []
            text, self._pending_space = self._pending_space + text, ""
            events = [*self._close_current(), *self._open("message")]
        else:
            events = []
        current = self._current
        assert current is not None
        current.pieces.append(text)
        return [*events, {"type": "response.output_text.delta", "item_id": current.item["id"],
                          "output_index": current.index, "content_index": 0, "delta": text, "logprobs": []}]

    def _reasoning(self, text: str) -> list[ResponseEvent]:
        events: list[ResponseEvent] = []
        if self._current is None or self._current.item["type"] != "reasoning":
            events = [*self._close_current(), *self._open("reasoning")]
        current = self._current
        assert current is not None
        current.pieces.append(text)
        return [*events, {"type": "response.reasoning_text.delta", "item_id": current.item["id"],
                          "output_index": current.index, "content_index": 0, "delta": text}]

    def _open(self, kind: str) -> list[ResponseEvent]:
        if kind == "message":
            item: dict[str, Any] = {"id": _id("msg"), "type": "message", "status": "in_progress", "role": "assistant", "content": []}
            part: dict[str, Any] = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        else:
            item = {"id": _id("rs"), "type": "reasoning", "status": "in_progress", "summary": [], "content": []}
            part = {"type": "reasoning_text", "text": ""}
        self._current = _Open(len(self._output), item)
        self._output.append(None)
        return [
            {"type": "response.output_item.added", "output_index": self._current.index, "item": dict(item)},
            {"type": "response.content_part.added", "item_id": item["id"], "output_index": self._current.index,
             "content_index": 0, "part": part},
        ]

    def _close_current(self, status: str = "completed") -> list[ResponseEvent]:
        current, self._current = self._current, None
        self._pending_space = ""
        if current is None:
            return []
        text = "".join(current.pieces)
        where = {"item_id": current.item["id"], "output_index": current.index, "content_index": 0}
        if current.item["type"] == "message":
            part: dict[str, Any] = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
            text_done: ResponseEvent = {"type": "response.output_text.done", **where, "text": text, "logprobs": []}
        else:
            part = {"type": "reasoning_text", "text": text}
            text_done = {"type": "response.reasoning_text.done", **where, "text": text}
        item = {**current.item, "status": status, "content": [part]}
        self._output[current.index] = item
        return [
            text_done,
            {"type": "response.content_part.done", **where, "part": part},
            {"type": "response.output_item.done", "output_index": current.index, "item": item},
        ]

    def _start_call(self, event: CallStart) -> list[ResponseEvent]:
        namespace, name = self._names.client_name(event.name)
        item: dict[str, Any] = {"id": _id("fc"), "type": "function_call", "status": "in_progress",
                                "call_id": event.id, "name": name, "arguments": ""}
        if namespace is not None:
            item["namespace"] = namespace
        call = self._calls[event.index] = _Open(len(self._output), item)
        self._output.append(None)
        return [{"type": "response.output_item.added", "output_index": call.index, "item": dict(item)}]

    def _end_call(self, call: _Open, arguments: str, status: str = "completed") -> list[ResponseEvent]:
        item = {**call.item, "arguments": arguments, "status": status}
        self._output[call.index] = item
        return [
            {"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": call.index,
             "name": item["name"], "arguments": arguments},
            {"type": "response.output_item.done", "output_index": call.index, "item": item},
        ]


def output_text(items: Iterable[dict[str, Any]]) -> str:
    """All `output_text` of the message items (what the SDKs call `output_text`)."""
    return "".join(
        part["text"] for item in items if item["type"] == "message" for part in item["content"] if part["type"] == "output_text"
    )
