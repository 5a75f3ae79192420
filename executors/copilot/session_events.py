"""Decode one headless session's events into text, reasoning, usage and errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executors.copilot.reasoning import REASONING_EVENTS, ReasoningStream
from executors.errors import CliAuthFailed, CliFailed, CliModelRejected
from executors.events import BackendEvent, TextDelta, UsageReport

BACKEND = "copilot"
_AUTH_HINT = (
    " (log in with `copilot login` as the user the bridge runs as, set COPILOT_GITHUB_TOKEN or "
    "GH_TOKEN, or configure a provider with COPILOT_PROVIDER_BASE_URL)"
)
_AUTH_MARKERS = ("No GitHub OAuth token", "Not authenticated", "No authentication information",
                 "Authentication failed with provider")


class SessionDecoder:
    """State for one session's turn: messages streamed, usage summed, the error it reported."""

    def __init__(self) -> None:
        self.done = False  # session.idle arrived: the turn is over
        self._streamed: set[str] = set()
        self._last_message: str | None = None
        self._error: Mapping[str, Any] | None = None
        self._call_failure: Mapping[str, Any] | None = None
        self._usage = [0, 0, 0]
        self._cost: float | None = None
        self._reported = False
        self._reasoning = ReasoningStream()

    def feed(self, event: Mapping[str, Any]) -> list[BackendEvent]:
        """Decode one `session.event` payload ({type, data, ...})."""
        kind = event.get("type")
        raw = event.get("data")
        data: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        if kind == "assistant.message_delta":
            return self._text(str(data.get("messageId", "")), data.get("deltaContent"))
        if kind in REASONING_EVENTS:
            return self._reasoning.feed(kind, data)
        if kind == "assistant.message":
            message_id = str(data.get("messageId", ""))
            if message_id not in self._streamed:  # arrived whole, not streamed
                return self._text(message_id, data.get("content"))
        elif kind == "assistant.usage":
            self._add_usage(data)
        elif kind == "session.error":
            self._error = data
        elif kind == "model.call_failure":
            self._call_failure = data
        elif kind == "session.idle":
            self.done = True
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

    def _add_usage(self, data: Mapping[str, Any]) -> None:
        self._reported = True
        for index, key in enumerate(("inputTokens", "outputTokens", "cacheReadTokens")):
            value = data.get(key)
            self._usage[index] += int(value) if isinstance(value, (int, float)) else 0
        cost = data.get("cost")  # Copilot's premium-request multiplier for this call
        if isinstance(cost, (int, float)):
            self._cost = (self._cost or 0.0) + float(cost)

    def finish(self) -> list[BackendEvent]:
        """Raise the error the session reported, or return its usage."""
        if self._error is not None:
            raise self._failure(self._error)
        if not self._reported:
            return [UsageReport(0, 0, estimated=True)]
        prompt, completion, cached = self._usage
        return [UsageReport(prompt, completion, cached_tokens=cached, premium_requests=self._cost)]

    def _failure(self, error: Mapping[str, Any]) -> CliFailed:
        message = str(error.get("message") or "the copilot session failed")
        failure = self._call_failure or {}
        status = error.get("statusCode") or failure.get("statusCode")
        if status == 404 or failure.get("errorCode") == "model_not_found":
            return CliModelRejected(BACKEND, message)
        if any(marker in message for marker in _AUTH_MARKERS):
            return CliAuthFailed(BACKEND, message + _AUTH_HINT)
        return CliFailed(BACKEND, message)
