"""Decode `copilot --output-format json` events into text and reasoning deltas, usage and errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from executors.cli.running import wanted_line
from executors.copilot.assistant_events import AssistantEvents
from executors.copilot.reasoning import REASONING_EVENTS
from executors.errors import CliAuthFailed, CliFailed
from executors.events import BackendEvent, UsageReport

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
        self._assistant = AssistantEvents()
        self._result: Mapping[str, Any] | None = None
        self.session_id: str | None = None

    def wants(self, line: bytes) -> bool:
        """Only the events it reads need decoding."""
        return wanted_line(line, _WANTED)

    def feed(self, event: Mapping[str, Any]) -> list[BackendEvent]:
        """Decode one JSONL event."""
        kind = event.get("type")
        raw = event.get("data")
        data: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        if kind == "result":
            self._result = event
            self.session_id = event.get("sessionId") or self.session_id
            return []
        return self._assistant.feed(kind, data)

    def result(self) -> list[BackendEvent] | None:
        """The usage once the `result` line reported success (copilot writes the usage file before it)."""
        if self._result is None or self._assistant.error is not None or self._result.get("exitCode") != 0:
            return None
        return [self._usage()]

    def finish(self, exit_code: int, stderr: str, stray_stdout: str) -> list[BackendEvent]:
        """Raise the run's error, or return its usage."""
        result_code = self._result.get("exitCode") if self._result else None
        if self._assistant.error is not None or exit_code != 0 or (isinstance(result_code, int) and result_code != 0):
            raise self._failure(exit_code, stderr, stray_stdout)
        return [self._usage()]

    def _failure(self, exit_code: int, stderr: str, stray_stdout: str) -> CliFailed:
        error = self._assistant.error
        if error is not None:
            message = str(error.get("message") or "")
        else:
            message = _FOOTER.sub("", stderr).strip() or stray_stdout.strip()
        message = message or f"copilot exited with status {exit_code}"
        rejected = self._assistant.rejected_model(message, exit_code)
        if rejected is not None:
            return rejected
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
