"""The session events both Copilot modes read alike: answer text, reasoning, and a reported failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executors.copilot.reasoning import REASONING_EVENTS, ReasoningStream
from executors.errors import CliFailed, CliModelRejected
from executors.events import BackendEvent, TextDelta

BACKEND = "copilot"


class AssistantEvents:
    """One turn's assistant messages (streamed or whole), reasoning, and `session.error`."""

    READS = frozenset({"assistant.message_delta", "assistant.message", "session.error", "model.call_failure",
                       *REASONING_EVENTS})  # the event types `feed` looks at

    def __init__(self) -> None:
        self._streamed: set[str] = set()
        self._last_message: str | None = None
        self._reasoning = ReasoningStream()
        self.error: Mapping[str, Any] | None = None
        self.call_failure: Mapping[str, Any] | None = None

    def feed(self, kind: object, data: Mapping[str, Any]) -> list[BackendEvent]:
        """The events one session event adds (most add none)."""
        if kind == "assistant.message_delta":
            return self._text(str(data.get("messageId", "")), data.get("deltaContent"))
        if kind in REASONING_EVENTS:
            return self._reasoning.feed(str(kind), data)
        if kind == "assistant.message":
            message_id = str(data.get("messageId", ""))
            if message_id not in self._streamed:  # a message that arrived whole, not streamed
                return self._text(message_id, data.get("content"))
        elif kind == "session.error":
            self.error = data
        elif kind == "model.call_failure":
            self.call_failure = data
        return []

    def _text(self, message_id: str, text: object) -> list[BackendEvent]:
        if not isinstance(text, str) or not text:
            return []
        events: list[BackendEvent] = []
        if self._last_message is not None and message_id != self._last_message:
            events.append(TextDelta("\n\n"))  # separate the agent's successive messages
        self._last_message = message_id
        self._streamed.add(message_id)
        events.append(TextDelta(text))
        return events

    def rejected_model(self, message: str, exit_code: int | None = None) -> CliFailed | None:
        """A CliModelRejected when the error (or the failed model call) says the model does not exist."""
        failure = self.call_failure or {}
        status = (self.error or {}).get("statusCode") or failure.get("statusCode")
        if status == 404 or failure.get("errorCode") == "model_not_found":
            return CliModelRejected(BACKEND, message, exit_code=exit_code)
        return None
