"""The function-calling dialogue: the tools go to the model through the same prompt protocol and
converter as `/v1/chat/completions`; calls come back as `CallStart`/`CallEnd` events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from executors import BackendRequest, Message, ToolCallRecord
from server.agent.dialogue import RequestBuilder, ToolCall, Turn
from server.agent.toolbox import ToolRun
from server.converters import CallEnd, CallStart, TextOut
from server.pipeline.events import OutputEvent

SYSTEM_PROMPT = (
    "You can use tools that the server runs for you and whose results come back to you. When the "
    "answer needs something you do not know (the current time, the content of a web page), call a "
    "tool; when you have what you need, answer the user directly."
)


@dataclass(slots=True)
class _CallReader:
    text: list[str] = field(default_factory=list)
    names: dict[int, tuple[str, str]] = field(default_factory=dict)  # index → (id, name)
    calls: list[ToolCall] = field(default_factory=list)

    def feed(self, event: OutputEvent) -> str:
        if isinstance(event, TextOut):
            self.text.append(event.text)
            return event.text
        if isinstance(event, CallStart):
            self.names[event.index] = (event.id, event.name)
        elif isinstance(event, CallEnd):
            call_id, name = self.names[event.index]
            self.calls.append(ToolCall(call_id, name, event.arguments))
        return ""

    def finish(self) -> Turn:
        text = "".join(self.text).strip()
        return Turn(text=text, answer=text, calls=tuple(self.calls))


@dataclass(frozen=True, slots=True)
class FunctionCalling:
    """Tools as chat-completions function tools; results as `tool` messages."""

    build: RequestBuilder
    tools: tuple[Mapping[str, Any], ...]

    def request(self, conversation: Sequence[Message]) -> BackendRequest:
        """The conversation with the agent's system note, and the tools."""
        return self.build([Message("system", SYSTEM_PROMPT), *conversation], self.tools)

    def reader(self) -> _CallReader:
        """Collects the turn's text and finished calls."""
        return _CallReader()

    def follow_up(self, turn: Turn, runs: Sequence[ToolRun]) -> list[Message]:
        """The assistant's calls, then one `tool` message per result."""
        done = turn.calls[: len(runs)]
        records = tuple(ToolCallRecord(c.id, c.name, c.arguments) for c in done)
        results = [Message("tool", r.observation(), name=c.name, tool_call_id=c.id) for c, r in zip(done, runs, strict=True)]
        return [Message("assistant", turn.text, tool_calls=records), *results]
