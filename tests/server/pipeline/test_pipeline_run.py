"""The pipeline over any backend: text through the converter, native calls, reasoning, usage, cleanup."""

from __future__ import annotations

import json
from typing import Any

import pytest

from executors import (
    BackendRequest,
    CliFailed,
    Finished,
    Message,
    ReasoningDelta,
    RunInfo,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from server.converters import CallArgs, CallEnd, CallStart, TextOut
from server.facts import RequestFacts
from server.pipeline.events import Completed, ReasoningOut
from server.pipeline.run import run_backend
from server.pipeline.tool_protocol import DialectToolProtocol
from tests.server.pipeline.scripted_backend import ScriptedBackend

TOOLS = ({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},)


def request(**fields: Any) -> BackendRequest:
    return BackendRequest("m", (Message("user", "hi"),), tool_protocol=DialectToolProtocol("hermes"), **fields)


async def run(backend: ScriptedBackend, req: BackendRequest, facts: RequestFacts | None = None) -> list[Any]:
    return [e async for e in run_backend(backend, req, facts or RequestFacts("r", "POST", "/"))]


async def test_text_and_usage_end_with_completed() -> None:
    facts = RequestFacts("r", "POST", "/")
    backend = ScriptedBackend([RunInfo(temp_dir="/t/x"), TextDelta("Hel"), TextDelta("lo"), UsageReport(10, 2)])
    events = await run(backend, request(), facts)
    assert [e.text for e in events if isinstance(e, TextOut)] == ["Hel", "lo"]
    assert events[-1] == Completed("stop", events[-1].usage) and events[-1].usage.prompt_tokens == 10
    assert facts.temp_dir == "/t/x" and facts.usage is not None and facts.usage["total_tokens"] == 12
    assert facts.first_output_s is not None and backend.closed == 1


async def test_markup_in_text_becomes_a_call_only_when_tools_are_offered() -> None:
    reply = 'Sure.<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
    with_tools = await run(ScriptedBackend([TextDelta(reply)]), request(tools=TOOLS))
    (start,) = [e for e in with_tools if isinstance(e, CallStart)]
    (end,) = [e for e in with_tools if isinstance(e, CallEnd)]
    assert start.name == "get_weather" and json.loads(end.arguments) == {"city": "Paris"}
    assert with_tools[-1].finish_reason == "tool_calls"
    without = await run(ScriptedBackend([TextDelta(reply)]), request())
    assert "".join(e.text for e in without if isinstance(e, TextOut)) == reply
    assert without[-1].finish_reason == "stop"


async def test_native_calls_stream_through_and_share_numbering_with_converted_ones() -> None:
    script = [
        ToolCallDelta(0, id="call_up", name="get_weather"),
        ToolCallDelta(0, arguments='{"city": '),
        ToolCallDelta(0, arguments='"Oslo"}'),
        TextDelta('<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>'),
    ]
    events = await run(ScriptedBackend(script), request(tools=TOOLS))
    starts = [e for e in events if isinstance(e, CallStart)]
    assert [(s.index, s.name) for s in starts] == [(0, "get_weather"), (1, "get_weather")]
    assert starts[0].id == "call_up"
    fragments = [e.fragment for e in events if isinstance(e, CallArgs) and e.index == 0]
    assert fragments == ['{"city": ', '"Oslo"}']
    ends = {e.index: json.loads(e.arguments) for e in events if isinstance(e, CallEnd)}
    assert ends == {0: {"city": "Oslo"}, 1: {"city": "Rome"}}


async def test_reasoning_stays_apart_and_length_is_kept_as_the_finish_reason() -> None:
    events = await run(ScriptedBackend([ReasoningDelta("think"), TextDelta("answer"), Finished("length")]), request())
    assert [e.text for e in events if isinstance(e, ReasoningOut)] == ["think"]
    assert [e.text for e in events if isinstance(e, TextOut)] == ["answer"]
    assert events[-1].finish_reason == "length"


async def test_missing_usage_is_estimated_not_negative() -> None:
    events = await run(ScriptedBackend([TextDelta("x" * 40)]), request())
    usage = events[-1].usage
    assert usage.estimated and usage.completion_tokens == 10 and usage.prompt_tokens >= 1


async def test_backend_error_propagates_after_the_text_so_far_and_cleans_up() -> None:
    backend = ScriptedBackend([TextDelta("Hello"), CliFailed("scripted", "boom")])
    seen: list[Any] = []
    with pytest.raises(CliFailed):
        async for event in run_backend(backend, request(), RequestFacts("r", "POST", "/")):
            seen.append(event)
    assert [e.text for e in seen if isinstance(e, TextOut)] == ["Hello"]
    assert backend.closed == 1


async def test_closing_early_closes_the_backend() -> None:
    backend = ScriptedBackend([TextDelta("a"), TextDelta("b"), TextDelta("c")])
    events = run_backend(backend, request(), RequestFacts("r", "POST", "/"))
    assert isinstance(await anext(events), TextOut)
    await events.aclose()
    assert backend.closed == 1
