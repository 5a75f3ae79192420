"""Responses request bodies: input items as messages, tools, tool_choice and parameters."""

from __future__ import annotations

from typing import Any

import pytest

from executors import Message, ToolCallRecord
from server.protocol.errors import InvalidRequest
from server.protocol.responses_items import items_to_messages, normalize_input
from server.protocol.responses_request import parse_responses_request
from server.protocol.responses_tools import ToolNames, parse_tools

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather", "strict": True,
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
NAMESPACE = {"type": "namespace", "name": "multi_agent_v1", "description": "agents", "tools": [
    {"type": "function", "name": "wait_agent", "parameters": {"type": "object"}}]}


def messages(raw_input: Any, instructions: str | None = None, names: ToolNames | None = None) -> tuple[Message, ...]:
    return items_to_messages(normalize_input(raw_input), instructions, names or ToolNames())[0]


def test_a_string_input_is_one_user_message_after_the_instructions() -> None:
    assert messages("hi", "be brief") == (Message("system", "be brief"), Message("user", "hi"))


def test_every_message_shape_and_role() -> None:
    raw = [
        {"role": "user", "content": "plain string, no type"},  # Agents SDK
        {"type": "message", "role": "developer", "id": "msg_not-openai-shaped",
         "content": [{"type": "input_text", "text": "part one"}, {"type": "input_text", "text": "part two"}]},
        {"type": "message", "role": "system", "content": "sys"},
        {"type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "earlier answer", "annotations": [], "logprobs": []},
                     {"type": "refusal", "refusal": "no"}]},
    ]
    assert messages(raw) == (
        Message("user", "plain string, no type"),
        Message("developer", "part one\npart two"),
        Message("system", "sys"),
        Message("assistant", "earlier answer\nno"),
    )


def test_calls_join_the_assistant_message_before_them_and_outputs_become_tool_messages() -> None:
    raw = [
        {"role": "user", "content": "weather?"},
        {"type": "message", "role": "assistant", "content": "Let me check."},
        {"type": "reasoning", "id": "rs_1", "summary": [], "content": None, "encrypted_content": None},
        {"type": "function_call", "id": "fc_1", "call_id": "call_a", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call", "call_id": "call_b", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        {"type": "function_call_output", "call_id": "call_a", "output": "22C"},
        {"type": "function_call_output", "id": "fco_x", "call_id": "call_b",
         "output": [{"type": "input_text", "text": "5C"}, {"type": "input_image", "image_url": "data:…"}]},
        {"type": "function_call", "call_id": "call_c", "name": "get_weather", "arguments": "{}"},
    ]
    msgs, skipped = items_to_messages(normalize_input(raw), None, ToolNames())
    assert msgs == (
        Message("user", "weather?"),
        Message("assistant", "Let me check.", tool_calls=(
            ToolCallRecord("call_a", "get_weather", '{"city":"Paris"}'),
            ToolCallRecord("call_b", "get_weather", '{"city":"Oslo"}'))),
        Message("tool", "22C", name="get_weather", tool_call_id="call_a"),
        Message("tool", "5C\n[input_image content not shown]", name="get_weather", tool_call_id="call_b"),
        Message("assistant", "", tool_calls=(ToolCallRecord("call_c", "get_weather", "{}"),)),
    )
    assert skipped == {"reasoning": 1}


def test_an_output_for_an_unknown_call_is_still_a_tool_message() -> None:
    msgs = messages([{"type": "function_call_output", "call_id": "call_gone", "output": "result"}])
    assert msgs == (Message("tool", "result", tool_call_id="call_gone"),)


def test_unknown_item_types_are_skipped_and_counted() -> None:
    raw = [{"type": "web_search_call", "id": "ws_1", "status": "completed"},
           {"type": "custom_tool_call", "call_id": "c", "name": "apply_patch", "input": "…"},
           {"type": "compaction", "encrypted_content": "x"},
           {"role": "user", "content": "go on"}]
    msgs, skipped = items_to_messages(normalize_input(raw), None, ToolNames())
    assert msgs == (Message("user", "go on"),)
    assert skipped == {"web_search_call": 1, "custom_tool_call": 1, "compaction": 1}


def test_normal_form_has_types_ids_and_part_lists() -> None:
    items = normalize_input([
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}", "id": "fc_keep"},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
    ])
    assert [i["type"] for i in items] == ["message", "message", "function_call", "function_call_output"]
    assert [i["id"][:4] for i in items] == ["msg_", "msg_", "fc_k", "fco_"]
    assert items[0]["content"] == [{"type": "input_text", "text": "hi"}]
    assert items[1]["content"] == [{"type": "output_text", "text": "hello", "annotations": [], "logprobs": []}]
    assert all(i["status"] == "completed" for i in items)
    assert len({i["id"] for i in items}) == 4


@pytest.mark.parametrize(("raw", "param"), [
    (42, "input"),
    ([{"role": "tool", "content": "x"}], "input[0].role"),
    ([{"content": "no role, no type"}], "input[0].type"),
    ([{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}], "input[0].content[0].image_url"),
    ([{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}], "input[0].content[0].type"),
    ([{"role": "assistant", "content": [{"type": "input_image", "image_url": "x"}]}], "input[0].content[0].type"),
    ([{"type": "function_call", "name": "f", "arguments": "{}"}], "input[0].call_id"),
    ([{"type": "function_call", "call_id": "c", "name": "f", "arguments": "[1]"}], "input[0].arguments"),
    ([{"type": "function_call_output", "call_id": "c", "output": {"a": 1}}], "input[0].output"),
    (["just a string in a list"], "input[0]"),
])
def test_bad_items_are_400s_naming_the_item(raw: Any, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_input(raw)
    assert caught.value.param == param


def test_namespace_functions_are_flattened_and_hosted_tools_skipped() -> None:
    tools = parse_tools([WEATHER, NAMESPACE, {"type": "web_search", "external_web_access": True}])
    assert [t["function"]["name"] for t in tools.tools] == ["get_weather", "multi_agent_v1__wait_agent"]
    assert tools.tools[0] == {"type": "function", "function": {
        "name": "get_weather", "description": "Weather", "parameters": WEATHER["parameters"], "strict": True}}
    assert tools.names.client_name("multi_agent_v1__wait_agent") == ("multi_agent_v1", "wait_agent")
    assert tools.names.client_name("get_weather") == (None, "get_weather")
    assert tools.skipped == ("web_search",)
    assert [t["type"] for t in tools.echo] == ["function", "namespace", "web_search"]


def test_a_namespaced_call_in_history_gets_the_name_the_model_saw() -> None:
    names = parse_tools([NAMESPACE]).names
    raw = [{"type": "function_call", "call_id": "c1", "name": "wait_agent", "namespace": "multi_agent_v1", "arguments": "{}"}]
    assert messages(raw, names=names)[0].tool_calls == (ToolCallRecord("c1", "multi_agent_v1__wait_agent", "{}"),)


def test_tool_choice_shapes() -> None:
    body: dict[str, Any] = {"input": "x", "tools": [WEATHER, NAMESPACE]}
    named = parse_responses_request({**body, "tool_choice": {"type": "function", "name": "get_weather"}})
    assert named.tool_choice == {"type": "function", "function": {"name": "get_weather"}}
    assert named.raw_tool_choice == {"type": "function", "name": "get_weather"}
    allowed = parse_responses_request({**body, "tool_choice": {"type": "allowed_tools", "mode": "required", "tools": [
        {"type": "function", "name": "wait_agent", "namespace": "multi_agent_v1"}]}})
    assert allowed.tool_choice == "required"
    assert [t["function"]["name"] for t in allowed.allowed_tools] == ["multi_agent_v1__wait_agent"]
    assert parse_responses_request({**body, "tool_choice": "none"}).tool_choice == "none"
    for bad in ({"type": "function", "name": "nope"}, {"type": "web_search"}, 3):
        with pytest.raises(InvalidRequest):
            parse_responses_request({**body, "tool_choice": bad})


def test_parameters_take_their_chat_names() -> None:
    req = parse_responses_request({
        "input": "x", "max_output_tokens": 50, "temperature": 0.2, "top_p": 0.9,
        "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True},
                 "verbosity": "low"},
        "reasoning": {"effort": "high", "summary": "auto"}, "prompt_cache_key": "k",
        "include": ["reasoning.encrypted_content"], "client_metadata": {"a": "b"}, "max_tool_calls": 3,
        "store": False, "metadata": {"k": "v"}, "mystery": 1,
    })
    assert req.params == {
        "max_tokens": 50, "temperature": 0.2, "top_p": 0.9, "verbosity": "low", "reasoning_effort": "high",
        "prompt_cache_key": "k",
        "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": True}},
    }
    assert req.ignored == ("max_tool_calls",)
    assert req.unknown_fields == ("mystery",)
    assert (req.store, req.metadata, req.stream) == (False, {"k": "v"}, False)
    assert req.echo["reasoning"] == {"effort": "high", "summary": "auto"}
    plain = parse_responses_request({"input": "x", "text": {"format": {"type": "text"}}})
    assert plain.params == {}


@pytest.mark.parametrize(("body", "param"), [
    ({}, "input"),
    ({"input": "x", "background": True}, "background"),
    ({"input": "x", "conversation": "conv_1"}, "conversation"),
    ({"input": "x", "stream": "yes"}, "stream"),
    ({"input": "x", "model": ""}, "model"),
    ({"input": "x", "instructions": ["a"]}, "instructions"),
    ({"input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
    ({"input": "x", "tools": [WEATHER, WEATHER]}, "tools"),
    ({"input": "x", "text": {"format": "json"}}, "text.format"),
])
def test_bad_bodies_are_400s_naming_the_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_responses_request(body)
    assert caught.value.param == param


def test_previous_response_id_alone_needs_no_input() -> None:
    req = parse_responses_request({"previous_response_id": "resp_1"})
    assert req.input_items == () and req.previous_response_id == "resp_1"
