"""Structured messages to a CLI prompt: system prompt, transcript, tool history."""

from __future__ import annotations

import pytest

from executors import BackendRequest, Message
from executors.cli.transcript import render_transcript
from server.pipeline.tool_protocol import DialectToolProtocol
from server.protocol.errors import InvalidRequest
from server.protocol.messages import parse_messages

HERMES = DialectToolProtocol("hermes")


def request(messages: tuple[Message, ...], **fields: object) -> BackendRequest:
    return BackendRequest("m", messages, tool_protocol=HERMES, **fields)  # type: ignore[arg-type]


def test_single_user_message_is_verbatim() -> None:
    rendered = render_transcript(request(parse_messages([{"role": "system", "content": "S"}, {"role": "user", "content": "Q?"}])))
    assert rendered.system_prompt == "S" and rendered.prompt == "Q?"


def test_tool_history_round_trips_into_the_transcript() -> None:
    messages = parse_messages([
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "22C sunny"},
        {"role": "tool", "tool_call_id": "call_1", "content": ""},
    ])
    tools = ({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},)
    rendered = render_transcript(request(messages, tools=tools))
    assert "get_weather" in rendered.system_prompt
    prompt = rendered.prompt
    assert prompt.index("Weather in Paris?") < prompt.index("<tool_call>") < prompt.index("22C sunny")
    assert "Paris" in prompt and "call_1" in prompt
    assert "empty result" in prompt
    assert prompt.rstrip().endswith("using the tool results above.")


def test_earlier_calls_are_written_in_the_requests_dialect() -> None:
    messages = parse_messages([
        {"role": "user", "content": "hi"},
        {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "ok"},
    ])
    xml = render_transcript(BackendRequest("m", messages, tool_protocol=DialectToolProtocol("claude_xml"))).prompt
    assert "<invoke name=\"f\">" in xml and "<tool_call>" not in xml


def test_tool_choice_none_leaves_tools_out() -> None:
    tools = ({"type": "function", "function": {"name": "get_weather"}},)
    rendered = render_transcript(request(parse_messages([{"role": "user", "content": "x"}]), tools=tools, tool_choice="none"))
    assert "get_weather" not in rendered.system_prompt


def test_non_text_tool_output_does_not_fail() -> None:
    (message,) = parse_messages([{"role": "tool", "tool_call_id": "c", "content": [{"type": "image_url", "image_url": {}}]}])
    assert "image_url" in message.text


@pytest.mark.parametrize(
    "raw",
    [None, [], "hi", [{"role": "user"}], [{"role": "user", "content": 5}], [{"role": "tool", "content": "x"}]],
)
def test_bad_messages_raise(raw: object) -> None:
    with pytest.raises(InvalidRequest):
        parse_messages(raw)


@pytest.mark.parametrize("arguments", ["not json", "[1, 2]", 7])
def test_history_call_arguments_must_be_a_json_object(arguments: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_messages([{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": arguments}}]}])
    assert info.value.param == "messages[0].tool_calls[0].function.arguments"
