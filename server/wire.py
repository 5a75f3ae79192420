"""OpenAI chat-completion JSON shapes: stream chunks and the folded non-stream response."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from server.completion import Completed, OutputEvent, Usage
from server.converters import CallArgs, CallEnd, CallStart, TextOut


def completion_id() -> str:
    """A fresh `chatcmpl-…` id."""
    return "chatcmpl-" + secrets.token_hex(12)


@dataclass(slots=True)
class ChunkFactory:
    """Builds `chat.completion.chunk` objects with the same id/created/model on every chunk."""

    model: str
    include_usage: bool = False
    legacy_functions: bool = False
    id: str = field(default_factory=completion_id)
    created: int = field(default_factory=lambda: int(time.time()))

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        # No `system_fingerprint` here or below: the bridge has none to give, and OpenAI's schema
        # allows the field to be absent but not null.
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def role(self) -> dict[str, Any]:
        """The first chunk: the assistant role with empty content."""
        return self._chunk({"role": "assistant", "content": ""})

    def event(self, event: OutputEvent) -> dict[str, Any] | None:
        """The chunk for one output event (None for events that add nothing to the stream)."""
        if isinstance(event, TextOut):
            return self._chunk({"content": event.text}) if event.text else None
        if isinstance(event, CallStart):
            if self.legacy_functions:
                return self._chunk({"function_call": {"name": event.name, "arguments": ""}}) if event.index == 0 else None
            call = {"index": event.index, "id": event.id, "type": "function", "function": {"name": event.name, "arguments": ""}}
            return self._chunk({"tool_calls": [call]})
        if isinstance(event, CallArgs):
            if not event.fragment:
                return None
            if self.legacy_functions:
                return self._chunk({"function_call": {"arguments": event.fragment}}) if event.index == 0 else None
            return self._chunk({"tool_calls": [{"index": event.index, "function": {"arguments": event.fragment}}]})
        if isinstance(event, Completed):
            return self._chunk({}, self.finish_reason(event.finish_reason))
        return None

    def finish_reason(self, reason: str) -> str:
        """`tool_calls`, or `function_call` for clients that sent legacy `functions`."""
        return "function_call" if reason == "tool_calls" and self.legacy_functions else reason

    def usage(self, usage: Usage) -> dict[str, Any]:
        """The final usage-only chunk (stream_options.include_usage)."""
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage.as_openai(),
        }


def fold_completion(factory: ChunkFactory, events: Iterable[OutputEvent]) -> tuple[dict[str, Any], list[CallEnd]]:
    """One `chat.completion` from the whole event list, and the finished calls (for warnings)."""
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    ended: list[CallEnd] = []
    completed: Completed | None = None
    for event in events:
        if isinstance(event, TextOut):
            text.append(event.text)
        elif isinstance(event, CallStart):
            calls[event.index] = {"id": event.id, "type": "function", "function": {"name": event.name, "arguments": ""}}
        elif isinstance(event, CallEnd):
            calls[event.index]["function"]["arguments"] = event.arguments
            ended.append(event)
        elif isinstance(event, Completed):
            completed = event
    assert completed is not None, "a completion always ends with Completed"
    content: str | None = "".join(text)
    if calls:  # only the whitespace that separated calls would remain; OpenAI sends null then
        content = content.strip() or None if content else None
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    ordered = [calls[i] for i in sorted(calls)]
    if ordered and factory.legacy_functions:
        message["function_call"] = ordered[0]["function"]
    elif ordered:
        message["tool_calls"] = ordered
    body = {
        "id": factory.id,
        "object": "chat.completion",
        "created": factory.created,
        "model": factory.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": factory.finish_reason(completed.finish_reason)}],
        "usage": completed.usage.as_openai(),
    }
    return body, ended
