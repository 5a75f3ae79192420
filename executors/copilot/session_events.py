"""Decode one headless session's events into text, reasoning, usage and errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executors.copilot.assistant_events import AssistantEvents
from executors.errors import CliAuthFailed, CliFailed
from executors.events import BackendEvent, UsageReport

BACKEND = "copilot"
_AUTH_HINT = (
    " (log in with `copilot login` as the user the bridge runs as, set COPILOT_GITHUB_TOKEN or "
    "GH_TOKEN, or configure a provider with COPILOT_PROVIDER_BASE_URL)"
)
_AUTH_MARKERS = ("No GitHub OAuth token", "Not authenticated", "No authentication information",
                 "Authentication failed with provider")


class SessionDecoder:
    """State for one session's turn: messages streamed, usage summed, the error it reported."""

    READS = AssistantEvents.READS | {"assistant.usage", "session.idle"}  # the event types `feed` looks at

    def __init__(self) -> None:
        self.done = False  # session.idle arrived: the turn is over
        self._assistant = AssistantEvents()
        self._usage = [0, 0, 0]
        self._cost: float | None = None
        self._reported = False

    def feed(self, event: Mapping[str, Any]) -> list[BackendEvent]:
        """Decode one `session.event` payload ({type, data, ...})."""
        kind = event.get("type")
        raw = event.get("data")
        data: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        if kind == "assistant.usage":
            self._add_usage(data)
        elif kind == "session.idle":
            self.done = True
        else:
            return self._assistant.feed(kind, data)
        return []

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
        if self._assistant.error is not None:
            raise self._failure(self._assistant.error)
        if not self._reported:
            return [UsageReport(0, 0, estimated=True)]
        prompt, completion, cached = self._usage
        return [UsageReport(prompt, completion, cached_tokens=cached, premium_requests=self._cost)]

    def _failure(self, error: Mapping[str, Any]) -> CliFailed:
        message = str(error.get("message") or "the copilot session failed")
        rejected = self._assistant.rejected_model(message)
        if rejected is not None:
            return rejected
        if any(marker in message for marker in _AUTH_MARKERS):
            return CliAuthFailed(BACKEND, message + _AUTH_HINT)
        return CliFailed(BACKEND, message)
