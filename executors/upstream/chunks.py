"""`chat.completion.chunk` objects from an upstream, read into backend events as they arrive."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from executors.events import (
    BackendEvent,
    Finished,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from executors.upstream.errors import UpstreamBadResponse, UpstreamErrorBody, UpstreamRejected

# Finish reasons worth passing on: "stop", "tool_calls" and "function_call" the pipeline works out itself.
_PASSED_FINISHES = frozenset({"length", "content_filter"})


class ChunkReader:
    """Reads one streamed answer; `finish` and the last `usage` seen are kept for the end.

    A whole `chat.completion` (from a server that ignores `stream`) reads as one big chunk:
    its `message` has the same fields as a delta.
    """

    def __init__(self, backend: str) -> None:
        self._backend = backend
        self.finish: str | None = None
        self._usage: UsageReport | None = None

    def read(self, chunk: Any) -> list[BackendEvent]:
        """The events in one chunk (text, reasoning, native tool-call fragments)."""
        if not isinstance(chunk, Mapping):
            raise UpstreamBadResponse(self._backend, f"the upstream sent a chunk that is not an object: {chunk!r:.200}")
        if chunk.get("error"):
            raise _in_stream_error(self._backend, chunk["error"])
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self._usage = _usage(usage) or self._usage
        events: list[BackendEvent] = []
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, Mapping) or choice.get("index") not in (0, None):
                continue  # only one answer is asked for
            delta = choice.get("delta") or choice.get("message")
            if isinstance(delta, Mapping):
                events += _delta_events(delta)
            if choice.get("finish_reason"):
                self.finish = str(choice["finish_reason"])
        return events

    def end(self) -> list[BackendEvent]:
        """Usage as the upstream counted it, and the finish reason when it is not a plain stop."""
        events: list[BackendEvent] = [self._usage] if self._usage else []
        if self.finish in _PASSED_FINISHES:
            events.append(Finished(self.finish))
        return events


def _delta_events(delta: Mapping[str, Any]) -> list[BackendEvent]:
    events: list[BackendEvent] = []
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        events.append(ReasoningDelta(reasoning))
    for key in ("content", "refusal"):
        text = delta.get(key)
        if isinstance(text, str) and text:
            events.append(TextDelta(text))
    calls = delta.get("tool_calls")
    if isinstance(calls, list) and calls:
        events += [_call_delta(call, position) for position, call in enumerate(calls) if isinstance(call, Mapping)]
    elif isinstance(delta.get("function_call"), Mapping):
        # The legacy field, answered when `functions` was sent (some servers mirror tool_calls here too).
        events.append(_call_delta({"index": 0, "function": delta["function_call"]}, 0))
    return events


def _call_delta(call: Mapping[str, Any], position: int) -> ToolCallDelta:
    function = call["function"] if isinstance(call.get("function"), Mapping) else {}
    arguments = function.get("arguments")
    if isinstance(arguments, Mapping | list):
        arguments = json.dumps(arguments, ensure_ascii=False)  # Ollama's native object, as OpenAI's JSON text
    index = call.get("index")
    name = function.get("name")
    return ToolCallDelta(
        index=index if isinstance(index, int) else position,
        arguments=arguments if isinstance(arguments, str) else "",
        id=call["id"] if isinstance(call.get("id"), str) and call["id"] else None,
        name=name if isinstance(name, str) and name else None,
    )


def _usage(usage: Mapping[str, Any]) -> UsageReport | None:
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    return UsageReport(prompt, completion, cached if isinstance(cached, int) else 0)


def _in_stream_error(backend: str, error: Any) -> UpstreamRejected:
    """An `{"error": …}` event in the stream (vLLM sends one when generation fails midway)."""
    if isinstance(error, Mapping):
        code = error.get("code")
        status = code if isinstance(code, int) and 400 <= code <= 599 else 502
        found = UpstreamErrorBody(str(error.get("message") or "the upstream failed mid-stream"),
                                  code if isinstance(code, str) else None)
        return UpstreamRejected(backend, status, found)
    return UpstreamRejected(backend, 502, UpstreamErrorBody(str(error)))
