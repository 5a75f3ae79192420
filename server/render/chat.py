"""Chat completions on the wire: `chat.completion.chunk` frames, and the folded `chat.completion`."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from server.converters import CallArgs, CallEnd, CallStart, TextOut
from server.pipeline.events import Completed, OutputEvent, ReasoningOut, Usage
from server.protocol.errors import ErrorInfo

DONE_FRAME = b"data: [DONE]\n\n"
KEEPALIVE_COMMENT = b": keep-alive\n\n"


def completion_id() -> str:
    """A fresh `chatcmpl-…` id."""
    return "chatcmpl-" + secrets.token_hex(12)


def sse_frame(payload: Any) -> bytes:
    """One `data:` event with compact JSON."""
    return b"data: " + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


@dataclass(slots=True)
class ChatFormat:
    """Builds chat chunks with the same id/created/model on every chunk; one per stream."""

    model: str
    include_usage: bool = False
    legacy_functions: bool = False
    id: str = field(default_factory=completion_id)
    created: int = field(default_factory=lambda: int(time.time()))

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
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

    def opening(self) -> bytes:
        """The first chunk: the assistant role with empty content."""
        return sse_frame(self._chunk({"role": "assistant", "content": ""}))

    def frames(self, event: OutputEvent) -> tuple[bytes, bool]:
        """The frames for one output event; `Completed` ends the stream (usage chunk, `[DONE]`)."""
        if isinstance(event, Completed):
            frames = sse_frame(self._chunk({}, self.finish_reason(event.finish_reason)))
            if self.include_usage:
                frames += sse_frame(self.usage_chunk(event.usage))
            return frames + DONE_FRAME, True
        chunk = self.chunk(event)
        return (sse_frame(chunk) if chunk is not None else b""), False

    def failure(self, info: ErrorInfo) -> bytes:
        """An in-stream error event, then `[DONE]`."""
        return sse_frame(info.body()) + DONE_FRAME

    def keepalive(self) -> bytes:
        """An SSE comment: every SSE parser skips it."""
        return KEEPALIVE_COMMENT

    def chunk(self, event: OutputEvent) -> dict[str, Any] | None:
        """The chunk for one output event (None for events that add nothing to the stream)."""
        if isinstance(event, TextOut):
            return self._chunk({"content": event.text}) if event.text else None
        if isinstance(event, ReasoningOut):
            return self._chunk({"reasoning_content": event.text}) if event.text else None
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
        return None

    def finish_reason(self, reason: str) -> str:
        """`tool_calls`, or `function_call` for clients that sent legacy `functions`."""
        return "function_call" if reason == "tool_calls" and self.legacy_functions else reason

    def usage_chunk(self, usage: Usage) -> dict[str, Any]:
        """The final usage-only chunk (stream_options.include_usage)."""
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage.as_openai(),
        }


def fold_completion(fmt: ChatFormat, events: Iterable[OutputEvent]) -> tuple[dict[str, Any], list[CallEnd]]:
    """One `chat.completion` from the whole event list, and the finished calls (for warnings)."""
    text: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    ended: list[CallEnd] = []
    completed: Completed | None = None
    for event in events:
        if isinstance(event, TextOut):
            text.append(event.text)
        elif isinstance(event, ReasoningOut):
            reasoning.append(event.text)
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
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    ordered = [calls[i] for i in sorted(calls)]
    if ordered and fmt.legacy_functions:
        message["function_call"] = ordered[0]["function"]
    elif ordered:
        message["tool_calls"] = ordered
    body = {
        "id": fmt.id,
        "object": "chat.completion",
        "created": fmt.created,
        "model": fmt.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": fmt.finish_reason(completed.finish_reason)}],
        "usage": completed.usage.as_openai(),
    }
    return body, ended
