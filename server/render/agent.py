"""The agent endpoints on the wire: the JSON reply, and named SSE events for a streamed run.

Stream: `call` (a tool is about to run), `step` (it ran), `text` (answer text as the model
writes it), then `answer` (the same object as the JSON reply) ends the stream; an error after
the stream began is an `error` event with the OpenAI error object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from server.agent.events import AgentDone, AgentEvent, AnswerText, StepDone, ToolCalled
from server.protocol.errors import ErrorInfo
from server.render.chat import KEEPALIVE_COMMENT


def agent_reply(done: AgentDone, model: str) -> dict[str, Any]:
    """`{"answer", "finish_reason", "model", "steps": [...], "usage"}`."""
    return {
        "answer": done.answer,
        "finish_reason": done.finish_reason,
        "model": model,
        "steps": [step.as_json() for step in done.steps],
        "usage": done.usage.as_openai(),
    }


def named_event(name: str, payload: Any) -> bytes:
    """One SSE event with a name and compact JSON data."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n".encode()


@dataclass(frozen=True, slots=True)
class AgentFormat:
    """The agent's SSE format for one model."""

    model: str

    def opening(self) -> bytes:
        """Nothing before the first event."""
        return b""

    def frames(self, event: AgentEvent) -> tuple[bytes, bool]:
        """The event's frame; `answer` is the last."""
        if isinstance(event, AnswerText):
            return named_event("text", {"text": event.text}), False
        if isinstance(event, ToolCalled):
            call: dict[str, Any] = {"step": event.number, "tool": event.tool, "arguments": _arguments(event.arguments)}
            if event.thought:
                call["thought"] = event.thought
            return named_event("call", call), False
        if isinstance(event, StepDone):
            return named_event("step", {"step": event.step.number, **event.step.as_json()}), False
        return named_event("answer", agent_reply(event, self.model)), True

    def failure(self, info: ErrorInfo) -> bytes:
        """An `error` event with the OpenAI error object."""
        return named_event("error", info.body())

    def keepalive(self) -> bytes:
        """An SSE comment while a tool or the model is busy: every SSE parser skips it."""
        return KEEPALIVE_COMMENT


def _arguments(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
