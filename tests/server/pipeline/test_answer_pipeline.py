"""The answer pipeline over a scripted backend: parameter plan, stop, response_format, required calls, repair."""

from __future__ import annotations

import json
from typing import Any

import pytest

from executors import (
    BackendRequest,
    Capabilities,
    CliFailed,
    Message,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from server.converters import CallArgs, CallEnd, CallStart, TextOut
from server.facts import RequestFacts
from server.pipeline.answer import Answer, answer, with_instruction
from server.pipeline.catalog import ModelInfo
from server.pipeline.events import Completed, ReasoningOut
from server.pipeline.prepare import Target
from server.pipeline.tool_protocol import DialectToolProtocol
from server.protocol.errors import InvalidModelOutput, InvalidRequest
from server.settings import Settings
from tests.server.params.param_helpers import PERSON_SCHEMA
from tests.server.pipeline.scripted_backend import ScriptedBackend

TOOLS = (
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
)


def call(name: str, city: str = "Paris") -> str:
    return f'<tool_call>{{"name": "{name}", "arguments": {{"city": "{city}"}}}}</tool_call>'


def plan(backend: ScriptedBackend, params: dict[str, Any], facts: RequestFacts | None = None, **fields: Any) -> Answer:
    target = Target(ModelInfo("scripted/m", "scripted", "m", "tests", 0), backend)
    request = BackendRequest("m", (Message("user", "hi"),), tool_protocol=DialectToolProtocol("hermes"), **fields)
    return answer(target, request, params, facts or RequestFacts("r", "POST", "/"), Settings())


async def events_of(planned: Answer) -> list[Any]:
    return [e async for e in planned.events]


def text(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextOut))


async def test_refused_parameters_raise_before_the_backend_runs() -> None:
    backend = ScriptedBackend([TextDelta("x")])
    for params, name in (({"n": 2}, "n"), ({"logprobs": True}, "logprobs"), ({"top_logprobs": 2}, "top_logprobs"),
                         ({"audio": {"voice": "alloy"}}, "audio"), ({"modalities": ["text", "audio"]}, "modalities"),
                         ({"logit_bias": {"42": 5}}, "logit_bias"), ({"web_search_options": {}}, "web_search_options")):
        with pytest.raises(InvalidRequest) as refused:
            plan(backend, params)
        assert refused.value.param == name and name in refused.value.message
    assert backend.requests == []


async def test_defaults_pass_silently_hints_are_reported_and_declared_params_are_passed() -> None:
    planned = plan(ScriptedBackend([TextDelta("x")]), {"n": 1, "logprobs": False, "modalities": ["text"], "temperature": 0.2, "seed": 1})
    assert planned.ignored == ("seed", "temperature")
    backend = ScriptedBackend([TextDelta("x")], capabilities=Capabilities(params=frozenset({"temperature", "n"})))
    planned = plan(backend, {"temperature": 0.2, "n": 3, "top_p": 0.5})
    assert planned.ignored == ("top_p",)
    await events_of(planned)
    assert backend.requests[0].params == {"temperature": 0.2, "n": 3}


async def test_stop_cuts_the_text_across_chunks_and_closes_the_run_early() -> None:
    never = CliFailed("scripted", "read after the stop sequence")
    backend = ScriptedBackend([TextDelta("Hello wo"), TextDelta("rld, E"), TextDelta("ND here"), never])
    events = await events_of(plan(backend, {"stop": ["END", "xyz"]}))
    assert text(events) == "Hello world, "
    assert events[-1].finish_reason == "stop" and events[-1].usage.estimated
    assert backend.closed == 1


async def test_stop_not_found_keeps_the_whole_text_and_the_backend_usage() -> None:
    events = await events_of(plan(ScriptedBackend([TextDelta("abc E"), TextDelta("N"), UsageReport(7, 3)]), {"stop": "END"}))
    assert text(events) == "abc EN" and events[-1].usage.prompt_tokens == 7


async def test_bad_stop_values_are_400s() -> None:
    for value in (5, ["a", 1], ["a", "b", "c", "d", "e"]):
        with pytest.raises(InvalidRequest) as bad:
            plan(ScriptedBackend([]), {"stop": value})
        assert bad.value.param == "stop"


async def test_json_instruction_joins_the_leading_system_message() -> None:
    messages = (Message("system", "Be brief."), Message("user", "hi"))
    merged = with_instruction(messages, "JSON please")
    assert [m.role for m in merged] == ["system", "user"] and merged[0].text == "Be brief.\n\nJSON please"
    assert [m.role for m in with_instruction(messages[1:], "JSON please")] == ["system", "user"]


async def test_json_answer_is_checked_unfenced_and_sent_whole() -> None:
    backend = ScriptedBackend([ReasoningDelta("hm"), TextDelta('```json\n{"name": "Ada", '), TextDelta('"age": 36}\n```')])
    events = await events_of(plan(backend, {"response_format": PERSON_SCHEMA}))
    assert [type(e) for e in events] == [ReasoningOut, TextOut, Completed]
    assert json.loads(text(events)) == {"name": "Ada", "age": 36}
    (system,) = [m for m in backend.requests[0].messages if m.role == "system"]
    assert '"required": ["name", "age"]' in system.text and "person" in system.text


async def test_invalid_json_gets_one_repair_turn_with_the_error_and_usage_of_both() -> None:
    facts = RequestFacts("r", "POST", "/")
    backend = ScriptedBackend(
        [TextDelta('{"name": "Ada"}'), UsageReport(10, 5)], later=[[TextDelta('{"name": "Ada", "age": 36}'), UsageReport(20, 6)]]
    )
    events = await events_of(plan(backend, {"response_format": PERSON_SCHEMA}, facts))
    assert json.loads(text(events)) == {"name": "Ada", "age": 36}
    assert len(backend.requests) == 2
    said, ask = backend.requests[1].messages[-2:]
    assert said == Message("assistant", '{"name": "Ada"}')
    assert ask.role == "user" and "'age' is a required property" in ask.text
    assert events[-1].usage.prompt_tokens == 30 and facts.usage is not None and facts.usage["total_tokens"] == 41


async def test_json_still_invalid_after_the_repair_is_a_502_naming_the_parameter() -> None:
    backend = ScriptedBackend([TextDelta("Sure! Here it is.")])
    with pytest.raises(InvalidModelOutput) as failed:
        await events_of(plan(backend, {"response_format": {"type": "json_object"}}))
    assert failed.value.status == 502 and failed.value.param == "response_format" and "not JSON" in failed.value.message
    assert len(backend.requests) == 2 and backend.closed == 2


async def test_json_object_must_be_an_object_and_a_call_skips_the_check() -> None:
    with pytest.raises(InvalidModelOutput):
        await events_of(plan(ScriptedBackend([TextDelta("[1, 2]")]), {"response_format": {"type": "json_object"}}))
    events = await events_of(plan(ScriptedBackend([TextDelta(call("get_weather"))]), {"response_format": {"type": "json_object"}}, tools=TOOLS))
    assert [e.name for e in events if isinstance(e, CallStart)] == ["get_weather"]


async def test_malformed_response_format_is_a_400() -> None:
    for value in ({"type": "yaml"}, {"type": "json_schema"}, {"type": "json_schema", "json_schema": {"schema": {"type": "nope"}}}):
        with pytest.raises(InvalidRequest) as bad:
            plan(ScriptedBackend([]), {"response_format": value})
        assert bad.value.param == "response_format"


async def test_native_response_format_is_passed_without_instruction_and_still_checked() -> None:
    backend = ScriptedBackend([TextDelta("no")], later=[[TextDelta('{"ok": true}')]],
                              capabilities=Capabilities(params=frozenset({"response_format"})))
    events = await events_of(plan(backend, {"response_format": {"type": "json_object"}}))
    assert text(events) == '{"ok": true}'
    assert backend.requests[0].params == {"response_format": {"type": "json_object"}}
    assert all(m.role != "system" for m in backend.requests[0].messages)


async def test_required_tool_call_after_prose_is_retried_and_text_before_a_call_is_kept() -> None:
    backend = ScriptedBackend([TextDelta("I would rather chat.")], later=[[TextDelta("Checking. " + call("get_time"))]])
    events = await events_of(plan(backend, {}, tools=TOOLS, tool_choice="required"))
    assert text(events) == "Checking. " and [e.name for e in events if isinstance(e, CallStart)] == ["get_time"]
    assert events[-1].finish_reason == "tool_calls"
    assert "must be a tool call" in backend.requests[1].messages[-1].text


async def test_named_tool_choice_drops_other_calls_and_renumbers() -> None:
    script = [ToolCallDelta(0, '{"city": "Oslo"}', id="c0", name="get_time"), TextDelta(call("get_weather", "Rome"))]
    events = await events_of(plan(ScriptedBackend(script), {}, tools=TOOLS,
                                  tool_choice={"type": "function", "function": {"name": "get_weather"}}))
    assert [(e.index, e.name) for e in events if isinstance(e, CallStart)] == [(0, "get_weather")]
    assert {e.index for e in events if isinstance(e, (CallArgs, CallEnd))} == {0}
    assert [json.loads(e.arguments) for e in events if isinstance(e, CallEnd)] == [{"city": "Rome"}]


async def test_only_the_wrong_call_twice_is_a_502_for_tool_choice() -> None:
    backend = ScriptedBackend([TextDelta(call("get_time"))])
    with pytest.raises(InvalidModelOutput) as failed:
        await events_of(plan(backend, {}, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_weather"}}))
    assert failed.value.param == "tool_choice" and "`get_time`" in failed.value.message
    assert "`get_weather`" in backend.requests[1].messages[-1].text


async def test_auto_tool_choice_streams_text_at_once() -> None:
    planned = plan(ScriptedBackend([TextDelta("Hel"), TextDelta("lo")]), {}, tools=TOOLS)
    first = await anext(planned.events)
    assert first == TextOut("Hel")
    await planned.events.aclose()
