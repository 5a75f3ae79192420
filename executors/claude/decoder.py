"""Decode `claude --output-format stream-json` lines into text and thinking deltas, usage and errors.

Thinking (captured from claude 2.1.197 with a model that thinks): a `thinking` content block
whose `thinking_delta`s stream before the text block, then a `signature_delta`; the `assistant`
line for the block (printed before its `content_block_stop`) repeats it whole; `system`
`thinking_tokens` lines report progress and are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executors.cli.running import wanted_line
from executors.errors import CliAuthFailed, CliFailed, CliModelRejected
from executors.events import BackendEvent, ReasoningDelta, TextDelta, UsageReport

BACKEND = "claude"
# The events it reads; `system` (init: tools, models), `user` and rate-limit lines are skipped undecoded.
_WANTED = frozenset({b"stream_event", b"assistant", b"result"})
_AUTH_HINT = (
    " (set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN for the bridge, or run `claude` and /login "
    "as the user the bridge runs as)"
)


class ClaudeDecoder:
    """State for one Claude run: whether text streamed, and the final result line."""

    def __init__(self) -> None:
        self._streamed = False  # text arrived as deltas
        self._thought = False  # thinking arrived as deltas
        self._result: Mapping[str, Any] | None = None
        self._auth_failed = False

    def wants(self, line: bytes) -> bool:
        """Only the events it reads need decoding."""
        return wanted_line(line, _WANTED)

    def feed(self, event: Mapping[str, Any]) -> list[BackendEvent]:
        """Decode one stream-json line."""
        kind = event.get("type")
        if kind == "stream_event":
            inner = event.get("event") or {}
            delta = inner.get("delta") or {}
            if inner.get("type") == "content_block_delta" and delta.get("type") == "text_delta":
                text = delta.get("text")
                if isinstance(text, str) and text:
                    self._streamed = True
                    return [TextDelta(text)]
            if inner.get("type") == "content_block_delta" and delta.get("type") == "thinking_delta":
                thinking = delta.get("thinking")
                if isinstance(thinking, str) and thinking:
                    self._thought = True
                    return [ReasoningDelta(thinking)]
        elif kind == "assistant":
            if event.get("error") == "authentication_failed":
                self._auth_failed = True
            elif not event.get("error"):
                return self._whole_message(event.get("message") or {})
        elif kind == "result":
            self._result = event
        return []

    def _whole_message(self, message: Mapping[str, Any]) -> list[BackendEvent]:
        # What did not stream (partial messages off, e.g. an older CLI) arrives whole here.
        blocks = [b for b in message.get("content") or [] if isinstance(b, Mapping)]
        events: list[BackendEvent] = []
        thinking = "".join(b["thinking"] for b in blocks if b.get("type") == "thinking" and isinstance(b.get("thinking"), str))
        if thinking and not self._thought:
            events.append(ReasoningDelta(thinking))
        text = "".join(b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str))
        if text and not self._streamed:
            events.append(TextDelta(text))
        return events

    def result(self) -> list[BackendEvent] | None:
        """The usage once the `result` line reported success."""
        if self._result is None or self._result.get("is_error") or self._auth_failed:
            return None
        return self._usage(self._result)

    def finish(self, exit_code: int, stderr: str, stray_stdout: str) -> list[BackendEvent]:
        """Raise the run's error, or return its usage."""
        result = self._result or {}
        if result.get("is_error") or exit_code != 0:
            raise self._failure(result, exit_code, stderr, stray_stdout)
        return self._usage(result)

    def _usage(self, result: Mapping[str, Any]) -> list[BackendEvent]:
        usage = result.get("usage")
        if not isinstance(usage, dict):
            return [UsageReport(0, 0, estimated=True)]
        cached = int(usage.get("cache_read_input_tokens") or 0)
        prompt = int(usage.get("input_tokens") or 0) + cached + int(usage.get("cache_creation_input_tokens") or 0)
        cost = result.get("total_cost_usd")
        return [
            UsageReport(
                prompt,
                int(usage.get("output_tokens") or 0),
                cached_tokens=cached,
                cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
            )
        ]

    def _failure(
        self, result: Mapping[str, Any], exit_code: int, stderr: str, stray_stdout: str
    ) -> CliFailed:
        errors = result.get("errors")
        message = str(result.get("result") or "")
        if not message and isinstance(errors, list):
            message = "; ".join(str(e) for e in errors)
        message = message or stray_stdout.strip() or stderr.strip() or f"claude exited with status {exit_code}"
        if result.get("api_error_status") == 404:
            return CliModelRejected(BACKEND, message, exit_code=exit_code)
        if self._auth_failed or message.startswith("Not logged in"):
            return CliAuthFailed(BACKEND, message + _AUTH_HINT, exit_code=exit_code)
        return CliFailed(BACKEND, message, exit_code=exit_code)
