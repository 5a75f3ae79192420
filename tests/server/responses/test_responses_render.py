"""Responses rendering: output events → items and stream events, numbered SSE, failure, keep-alive."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from executors import BackendRequest, Message, ReasoningDelta, ToolCallDelta, UsageReport
from server.converters import CallArgs, CallEnd, CallStart, TextOut
from server.facts import RequestFacts
from server.pipeline.events import Completed, OutputEvent, ReasoningOut, Usage
from server.pipeline.run import run_backend
from server.protocol.errors import ErrorInfo
from server.protocol.responses_tools import ToolNames
from server.render.responses import ResponsesFormat, ResponseShell, fold_response, response_events
from server.render.responses_output import OutputItems
from tests.openapi.validator import check_http, describe
from tests.server.pipeline.scripted_backend import ScriptedBackend

USAGE = Usage(10, 4, cached_tokens=2)


async def _script(events: Sequence[OutputEvent]) -> AsyncGenerator[OutputEvent, None]:
    for event in events:
        yield event


async def render(events: Sequence[OutputEvent], names: ToolNames | None = None) -> list[dict[str, Any]]:
    """Every event the stream writes, decoded, opening included."""
    shell = ResponseShell("resp_test", "copilot/gpt-5.4")
    fmt = ResponsesFormat(shell)
    raw = fmt.opening()
    async for event in response_events(_script(events), OutputItems(names or ToolNames()), shell):
        data, last = fmt.frames(event)
        raw += data
        if last:
            break
    assert_schema_valid(raw)
    return parse_sse(raw)


def assert_schema_valid(raw: bytes) -> None:
    """Every event is valid as the OpenAPI schema its type names (and the stream ends terminally)."""
    problems = check_http("POST", "/v1/responses", 200, "text/event-stream", raw)
    assert not problems, describe(problems)


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        name, data = block.split("\n")
        event = json.loads(data.removeprefix("data: "))
        assert name == f"event: {event['type']}"
        out.append(event)
    return out


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].removeprefix("response.") for e in events]


async def test_text_answer_sequence() -> None:
    events = await render([TextOut("Hel"), TextOut("lo"), Completed("stop", USAGE)])
    assert types(events) == [
        "created", "in_progress", "output_item.added", "content_part.added", "output_text.delta",
        "output_text.delta", "output_text.done", "content_part.done", "output_item.done", "completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    msg_id = events[2]["item"]["id"]
    assert msg_id.startswith("msg_")
    assert all(e["item_id"] == msg_id for e in events[3:8])
    assert events[2]["item"] == {"id": msg_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    assert [e["delta"] for e in events if e["type"] == "response.output_text.delta"] == ["Hel", "lo"]
    assert events[6]["text"] == "Hello" and events[7]["part"]["text"] == "Hello"
    final = events[-1]["response"]
    assert final["id"] == events[0]["response"]["id"] == "resp_test"
    assert final["status"] == "completed" and final["output"] == [events[8]["item"]]
    assert final["output"][0]["content"] == [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}]
    assert final["usage"] == {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 2}, "output_tokens": 4,
                              "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 14}
    assert events[0]["response"]["status"] == "in_progress" and events[0]["response"]["usage"] is None


async def test_text_then_two_calls_whitespace_between_opens_nothing() -> None:
    events = await render([
        TextOut("Checking."), CallStart(0, "call_a", "get_weather"), CallArgs(0, '{"city":'), CallArgs(0, '"Paris"}'),
        CallEnd(0, '{"city":"Paris"}', ()), TextOut("\n"), CallStart(1, "call_b", "get_weather"),
        CallArgs(1, '{"city":"Oslo"}'), CallEnd(1, '{"city":"Oslo"}', ()), TextOut("  "), Completed("tool_calls", USAGE),
    ])
    assert types(events) == [
        "created", "in_progress",
        "output_item.added", "content_part.added", "output_text.delta",
        "output_text.done", "content_part.done", "output_item.done",
        "output_item.added", "function_call_arguments.delta", "function_call_arguments.delta",
        "function_call_arguments.done", "output_item.done",
        "output_item.added", "function_call_arguments.delta", "function_call_arguments.done", "output_item.done",
        "completed",
    ]
    output = events[-1]["response"]["output"]
    assert [i["type"] for i in output] == ["message", "function_call", "function_call"]
    assert [e["output_index"] for e in events if e["type"] == "response.output_item.done"] == [0, 1, 2]
    call = output[1]
    assert call["id"].startswith("fc_") and call["call_id"] == "call_a" and call["name"] == "get_weather"
    assert call["arguments"] == '{"city":"Paris"}' and call["status"] == "completed" and "namespace" not in call
    added = events[8]["item"]
    assert added == {**call, "arguments": "", "status": "in_progress"}
    assert events[11] == {"type": "response.function_call_arguments.done", "sequence_number": 11, "item_id": call["id"],
                          "output_index": 1, "name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert len({i["id"] for i in output}) == 3


async def test_namespaced_call_goes_back_with_its_namespace() -> None:
    names = ToolNames({"multi_agent_v1__wait_agent": ("multi_agent_v1", "wait_agent")})
    events = await render([CallStart(0, "call_n", "multi_agent_v1__wait_agent"), CallEnd(0, "{}", ()),
                           Completed("tool_calls", USAGE)], names)
    (call,) = events[-1]["response"]["output"]
    assert (call["namespace"], call["name"]) == ("multi_agent_v1", "wait_agent")


async def test_reasoning_is_its_own_item_before_the_message() -> None:
    events = await render([ReasoningOut("think"), ReasoningOut("ing"), TextOut(" "), TextOut("Answer"), Completed("stop", USAGE)])
    assert types(events)[2:9] == [
        "output_item.added", "content_part.added", "reasoning_text.delta", "reasoning_text.delta",
        "reasoning_text.done", "content_part.done", "output_item.done",
    ]
    reasoning, message = events[-1]["response"]["output"]
    assert reasoning["id"].startswith("rs_") and reasoning["summary"] == []
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "thinking"}]
    assert message["content"][0]["text"] == " Answer"  # leading space kept once text follows


async def test_empty_answer_is_one_empty_message() -> None:
    events = await render([Completed("stop", USAGE)])
    assert types(events) == ["created", "in_progress", "output_item.added", "content_part.added", "output_text.done",
                             "content_part.done", "output_item.done", "completed"]
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == ""


async def test_length_limit_is_incomplete() -> None:
    events = await render([TextOut("cut sh"), Completed("length", USAGE)])
    assert events[-1]["type"] == "response.incomplete"
    body = events[-1]["response"]
    assert body["status"] == "incomplete" and body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["output"][0]["status"] == "incomplete"


async def test_failure_after_start_is_error_then_failed_with_finished_items() -> None:
    shell = ResponseShell("resp_f", "m")
    fmt = ResponsesFormat(shell)
    raw = fmt.opening()
    items = OutputItems(ToolNames())
    for out in items.feed(TextOut("partial")) + items.feed(CallStart(0, "call_1", "f")) + items.feed(CallEnd(0, "{}", ())):
        raw += fmt.frames(out)[0]
    raw += fmt.keepalive()
    raw += fmt.failure(ErrorInfo(502, "copilot exited with code 1", "server_error", "copilot_exit"))
    assert_schema_valid(raw)
    events = parse_sse(raw)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert types(events)[-3:] == ["in_progress", "error", "failed"]
    assert events[-3]["response"]["output"] == [] and events[-3]["response"]["id"] == "resp_f"
    assert events[-2] == {"type": "error", "sequence_number": len(events) - 2, "code": "copilot_exit",
                          "message": "copilot exited with code 1", "param": None}
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and failed["error"] == {"code": "server_error", "message": "copilot exited with code 1"}
    assert [i["type"] for i in failed["output"]] == ["message", "function_call"]  # closed before the call started


async def test_failure_codes_tell_codex_whether_to_retry() -> None:
    def code(status: int, code: str = "c") -> str:
        fmt = ResponsesFormat(ResponseShell("r", "m"))
        return str(parse_sse(fmt.failure(ErrorInfo(status, "x", "t", code)))[-1]["response"]["error"]["code"])

    assert [code(s) for s in (400, 404, 429, 503, 500, 502, 504)] == [
        "invalid_prompt", "invalid_prompt", "rate_limit_exceeded", "server_error",
        "server_error", "server_error", "server_error"]
    assert code(503, "server_busy") == "rate_limit_exceeded"


async def test_fold_is_the_terminal_response() -> None:
    items = OutputItems(ToolNames())
    shell = ResponseShell("resp_x", "m", instructions="be brief", metadata={"k": "v"}, echo={"temperature": 0.2})
    collected = [e async for e in response_events(_script([TextOut("hi"), Completed("stop", USAGE)]), items, shell)]
    body = fold_response(collected)
    assert body["output"] == items.done_items and body["status"] == "completed"
    assert (body["instructions"], body["metadata"], body["temperature"], body["top_p"]) == ("be brief", {"k": "v"}, 0.2, 1.0)
    assert isinstance(body["completed_at"], int) and body["error"] is None


async def test_native_calls_from_a_backend_may_interleave() -> None:
    # Upstream servers stream native tool calls by index, possibly interleaved; each is its own item.
    backend = ScriptedBackend([
        ReasoningDelta("plan"), ToolCallDelta(0, id="call_x", name="get_weather"), ToolCallDelta(1, id="call_y", name="get_weather"),
        ToolCallDelta(0, '{"city":"Paris"}'), ToolCallDelta(1, '{"city":"Oslo"}'), UsageReport(7, 3),
    ])
    request = BackendRequest("m", (Message("user", "hi"),), tools=({"type": "function", "function": {"name": "get_weather"}},))
    shell = ResponseShell("resp_native", "m")
    fmt = ResponsesFormat(shell)
    raw = fmt.opening()
    async for event in response_events(run_backend(backend, request, RequestFacts("r", "POST", "/")), OutputItems(ToolNames()), shell):
        raw += fmt.frames(event)[0]
    assert_schema_valid(raw)
    events = parse_sse(raw)
    assert types(events)[2:] == [
        "output_item.added", "content_part.added", "reasoning_text.delta", "reasoning_text.done", "content_part.done",
        "output_item.done", "output_item.added", "output_item.added", "function_call_arguments.delta",
        "function_call_arguments.delta", "function_call_arguments.done", "output_item.done",
        "function_call_arguments.done", "output_item.done", "completed",
    ]
    _, paris, oslo = events[-1]["response"]["output"]
    assert (paris["call_id"], paris["arguments"], oslo["call_id"], oslo["arguments"]) == (
        "call_x", '{"city":"Paris"}', "call_y", '{"city":"Oslo"}')
    assert events[-1]["response"]["usage"]["input_tokens"] == 7 and backend.closed == 1
