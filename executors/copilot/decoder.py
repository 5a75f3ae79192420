"""Decode `copilot --output-format json` events into text and reasoning deltas, usage and errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from executors.cli.running import wanted_line
from executors.copilot.reasoning import REASONING_EVENTS, ReasoningStream
from executors.errors import CliAuthFailed, CliFailed, CliModelRejected
from executors.events import BackendEvent, TextDelta, UsageReport

BACKEND = "copilot"
# Copilot's own texts when it has no usable credentials (cli-interface.md 1.1.5): not worth a retry.
_AUTH_FAILURES = ("Error: No authentication information found", "Authentication failed with provider")
# The events it reads; the rest (skills, info, turn markers, model call records) is skipped undecoded.
_WANTED = frozenset({
    b"assistant.message_delta", b"assistant.message", b"session.error", b"model.call_failure", b"result",
    *(kind.encode() for kind in REASONING_EVENTS),
})
# The stats footer copilot prints on stderr after a run (pitfall P2): not part of any error.
_FOOTER = re.compile(r"^(Changes|Duration|Tokens|Resume)\s{2,}.*$", re.MULTILINE)


class CopilotDecoder:
    """State for one Copilot run: which messages streamed, errors seen, the final result."""

    def __init__(self, usage_file: Path) -> None:
        self._usage_file = usage_file
        self._streamed: set[str] = set()
        self._last_message: str | None = None
        self._error: Mapping[str, Any] | None = None
        self._call_failure: Mapping[str, Any] | None = None
        self._result: Mapping[str, Any] | None = None
        self._reasoning = ReasoningStream()
        self.session_id: str | None = None

    def wants(self, line: bytes) -> bool:
        """Only the events it reads need decoding."""
        return wanted_line(line, _WANTED)

    def feed(self, event: Mapping[str, Any]) -> list[BackendEvent]:
        """Decode one JSONL event."""
        kind = event.get("type")
        raw = event.get("data")
        data: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        if kind == "assistant.message_delta":
            return self._text(str(data.get("messageId", "")), data.get("deltaContent"))
        if kind in REASONING_EVENTS:
            return self._reasoning.feed(kind, data)
        if kind == "assistant.message":
            message_id = str(data.get("messageId", ""))
            if message_id not in self._streamed:  # a message that arrived whole, not streamed
                return self._text(message_id, data.get("content"))
        elif kind == "session.error":
            self._error = data
        elif kind == "model.call_failure":
            self._call_failure = data
        elif kind == "result":
            self._result = event
            self.session_id = event.get("sessionId") or self.session_id
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

    def result(self) -> list[BackendEvent] | None:
        """The usage once the `result` line reported success (copilot writes the usage file before it)."""
        if self._result is None or self._error is not None or self._result.get("exitCode") != 0:
            return None
        return [self._usage()]

    def finish(self, exit_code: int, stderr: str, stray_stdout: str) -> list[BackendEvent]:
        """Raise the run's error, or return its usage."""
        result_code = self._result.get("exitCode") if self._result else None
        if self._error is not None or exit_code != 0 or (isinstance(result_code, int) and result_code != 0):
            raise self._failure(exit_code, stderr, stray_stdout)
        return [self._usage()]

    def _failure(self, exit_code: int, stderr: str, stray_stdout: str) -> CliFailed:
        status = None
        if self._error is not None:
            message = str(self._error.get("message") or "")
            status = self._error.get("statusCode")
        else:
            message = _FOOTER.sub("", stderr).strip() or stray_stdout.strip()
        if self._call_failure is not None:
            status = status or self._call_failure.get("statusCode")
        message = message or f"copilot exited with status {exit_code}"
        if status == 404 or (self._call_failure or {}).get("errorCode") == "model_not_found":
            return CliModelRejected(BACKEND, message, exit_code=exit_code)
        if message.lstrip().startswith(_AUTH_FAILURES):
            return CliAuthFailed(BACKEND, message, exit_code=exit_code)
        return CliFailed(BACKEND, message, exit_code=exit_code)

    def _usage(self) -> UsageReport:
        premium = None
        if self._result and isinstance(self._result.get("usage"), dict):
            premium = self._result["usage"].get("premiumRequests")
        try:
            stats = json.loads(self._usage_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return UsageReport(0, 0, premium_requests=premium, estimated=True)
        prompt = completion = cached = 0
        for metrics in (stats.get("modelMetrics") or {}).values():
            usage = metrics.get("usage") or {}
            prompt += int(usage.get("inputTokens") or 0)
            completion += int(usage.get("outputTokens") or 0)
            cached += int(usage.get("cacheReadTokens") or 0)
        if premium is None:
            premium = stats.get("totalPremiumRequestCost")
        return UsageReport(prompt, completion, cached_tokens=cached, premium_requests=premium)
