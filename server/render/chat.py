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
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once: dumps() with options builds one per call


def completion_id() -> str:
    """A fresh `chatcmpl-…` id."""
    return "chatcmpl-" + secrets.token_hex(12)


def sse_frame(payload: Any) -> bytes:
    """One `data:` event with compact JSON."""
    return b"data: " + _JSON.encode(payload).encode() + b"\n\n"


@dataclass(slots=True)
class ChatFormat:
    """Builds chat chunks with the same id/created/model on every chunk; one per stream.

    The envelope around each delta is the same for the whole stream, so it is encoded once and
    each chunk encodes only its delta (the bytes are those of encoding the whole chunk).
    """

    model: str
    include_usage: bool = False
    legacy_functions: bool = False
    id: str = field(default_factory=completion_id)
    created: int = field(default_factory=lambda: int(time.time()))
    _head: bytes = field(init=False, repr=False, default=b"")
    _usage_null: bytes = field(init=False, repr=False, default=b"")

    def __post_init__(self) -> None:
        self._head = (
            f'data: {{"id":{_JSON.encode(self.id)},"object":"chat.completion.chunk","created":{self.created},'
            f'"model":{_JSON.encode(self.model)},"choices":[{{"index":0,"delta":'
        ).encode()
        self._usage_null = b',"usage":null' if self.include_usage else b""

    def _frame(self, delta: str, finish_reason: str | None = None) -> bytes:
        """One chunk frame around an encoded delta."""
        finish = b"null" if finish_reason is None else _JSON.encode(finish_reason).encode()
        return self._head + delta.encode() + b',"logprobs":null,"finish_reason":' + finish + b"}]" + self._usage_null + b"}\n\n"

    def opening(self) -> bytes:
        """The first chunk: the assistant role with empty content."""
        return self._frame('{"role":"assistant","content":""}')

    def frames(self, event: OutputEvent) -> tuple[bytes, bool]:
        """The frames for one output event; `Completed` ends the stream (usage chunk, `[DONE]`)."""
        if type(event) is TextOut:  # the hot path: one frame per piece of answer text
            return (self._frame('{"content":' + _JSON.encode(event.text) + "}") if event.text else b""), False
        if isinstance(event, Completed):
            frames = self._frame("{}", self.finish_reason(event.finish_reason))
            if self.include_usage:
                frames += sse_frame(self.usage_chunk(event.usage))
            return frames + DONE_FRAME, True
        delta = self.delta(event)
        return (self._frame(_JSON.encode(delta)) if delta is not None else b""), False

    def failure(self, info: ErrorInfo) -> bytes:
        """An in-stream error event, then `[DONE]`."""
        return sse_frame(info.body()) + DONE_FRAME

    def keepalive(self) -> bytes:
        """An SSE comment: every SSE parser skips it."""
        return KEEPALIVE_COMMENT

    def delta(self, event: OutputEvent) -> dict[str, Any] | None:
        """The chunk delta for one output event (None for events that add nothing to the stream)."""
        if isinstance(event, TextOut):
            return {"content": event.text} if event.text else None
        if isinstance(event, ReasoningOut):
            return {"reasoning_content": event.text} if event.text else None
        if isinstance(event, CallStart):
            if self.legacy_functions:
                return {"function_call": {"name": event.name, "arguments": ""}} if event.index == 0 else None
            call = {"index": event.index, "id": event.id, "type": "function", "function": {"name": event.name, "arguments": ""}}
            return {"tool_calls": [call]}
        if isinstance(event, CallArgs):
            if not event.fragment:
                return None
            if self.legacy_functions:
                return {"function_call": {"arguments": event.fragment}} if event.index == 0 else None
            return {"tool_calls": [{"index": event.index, "function": {"arguments": event.fragment}}]}
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
