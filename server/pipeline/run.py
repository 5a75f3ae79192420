"""One backend run as one stream of output events: backend events → converter → output events.

Text goes through the streaming tool-call converter; calls the backend made natively pass
through as they arrive; reasoning stays apart; the last event is always `Completed` with usage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field

import structlog

from executors import (
    Backend,
    BackendEvent,
    BackendRequest,
    Finished,
    ReasoningDelta,
    RunInfo,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from server.converters import CallArgs, CallEnd, CallStart, ConverterEvent, StreamingParser
from server.converters.ids import new_call_id
from server.facts import RequestFacts
from server.pipeline.events import Completed, OutputEvent, ReasoningOut, Usage

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _NativeCall:
    index: int  # the call's index in the answer (shared with converted calls)
    arguments: list[str] = field(default_factory=list)


class _Calls:
    """Numbers every call in the answer, converted or native, 0..n-1 in the order they start."""

    def __init__(self) -> None:
        self.count = 0
        self._converted: dict[int, int] = {}
        self.native: dict[int, _NativeCall] = {}

    def converted(self, event: ConverterEvent) -> OutputEvent:
        """A converter event renumbered into the answer's call order."""
        if isinstance(event, CallStart):
            self._converted[event.index] = self.count
            self.count += 1
            return CallStart(self._converted[event.index], event.id, event.name)
        if isinstance(event, CallArgs):
            return CallArgs(self._converted[event.index], event.fragment)
        if isinstance(event, CallEnd):
            if event.problems:
                log.warning("tool_call_arguments_invalid", index=event.index, problems=list(event.problems))
            return CallEnd(self._converted[event.index], event.arguments, event.problems)
        return event

    def native_delta(self, delta: ToolCallDelta) -> list[OutputEvent]:
        """A native call's fragment: its start (id and name) the first time, then argument pieces."""
        call = self.native.get(delta.index)
        out: list[OutputEvent] = []
        if call is None:
            call = self.native[delta.index] = _NativeCall(self.count)
            self.count += 1
            out.append(CallStart(call.index, delta.id or new_call_id(), delta.name or ""))
        if delta.arguments:
            call.arguments.append(delta.arguments)
            out.append(CallArgs(call.index, delta.arguments))
        return out

    def native_ends(self) -> list[OutputEvent]:
        """Every native call's end, with its whole arguments."""
        return [CallEnd(c.index, "".join(c.arguments) or "{}", ()) for c in self.native.values()]


async def run_backend(
    backend: Backend, request: BackendRequest, facts: RequestFacts, *, convert_tool_calls: bool = True
) -> AsyncGenerator[OutputEvent, None]:
    """Yield the answer's output events as the backend produces them; `Completed` comes last."""
    parser = StreamingParser(request.tools if request.uses_tools else None, enabled=convert_tool_calls and request.uses_tools)
    calls = _Calls()
    report: UsageReport | None = None
    finish: str | None = None
    out_chars = 0
    events: AsyncIterator[BackendEvent] = backend.stream(request)
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                out_chars += len(event.text)
                for item in parser.feed(event.text):
                    facts.note_output()
                    yield calls.converted(item)
            elif isinstance(event, ReasoningDelta):
                if event.text:
                    facts.note_output()
                    yield ReasoningOut(event.text)
            elif isinstance(event, ToolCallDelta):
                out_chars += len(event.arguments)
                for native in calls.native_delta(event):
                    facts.note_output()
                    yield native
            elif isinstance(event, UsageReport):
                report = event
            elif isinstance(event, RunInfo):
                facts.temp_dir = event.temp_dir or facts.temp_dir
                facts.fallbacks.extend(event.fallbacks)
            elif isinstance(event, Finished):
                finish = event.reason
    finally:
        await _close(events)
    for item in parser.finish():
        yield calls.converted(item)
    for end in calls.native_ends():
        yield end
    usage = _usage(report, request, out_chars)
    facts.usage = usage.as_openai()
    yield Completed("tool_calls" if calls.count else (finish or "stop"), usage)


async def _close(events: AsyncIterator[BackendEvent]) -> None:
    # Closing the backend's generator runs its cleanup (kill the CLI, remove the temp dir) now.
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()


def _usage(report: UsageReport | None, request: BackendRequest, out_chars: int) -> Usage:
    if report is not None and not report.estimated:
        return Usage(
            report.prompt_tokens, report.completion_tokens, report.cached_tokens, report.cost_usd, report.premium_requests
        )
    estimate = estimated_usage(request, out_chars)
    if report is None:
        return estimate
    return dataclasses.replace(estimate, cost_usd=report.cost_usd, premium_requests=report.premium_requests)


def estimated_usage(request: BackendRequest, out_chars: int) -> Usage:
    """Usage when the backend reported no token counts (or was stopped early): about 4 characters a token."""
    prompt_chars = sum(len(m.text) for m in request.messages) + sum(len(str(t)) for t in request.tools)
    return Usage(max(1, prompt_chars // 4), (out_chars + 3) // 4, estimated=True)
