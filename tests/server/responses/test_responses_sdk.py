"""The official openai SDK's Responses calls against the bridge, with the fake CLIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.conftest import cli_records
from tests.server.responses.responses_helpers import WEATHER

MODELS = ["copilot/gpt-5.4", "claude/sonnet"]
CALL_REPLIES = {
    "copilot/gpt-5.4": '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    "claude/sonnet": '<function_calls>\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n'
                     "</invoke>\n</function_calls>",
}
TOOL_RESULT = "22C and sunny [[fake:reply=It is 22C and sunny in Paris.]]"


def first_input(tmp_path: Path, model: str) -> str:
    reply = tmp_path / "call.txt"
    reply.write_text(CALL_REPLIES[model], encoding="utf-8")
    return f"Weather in Paris? [[fake:reply_file={reply}]] [[fake:chunks=5]]"


async def test_create_non_stream_and_retrieve(sdk: AsyncOpenAI) -> None:
    response = await sdk.responses.create(model="copilot/gpt-5.4", input="Hi [[fake:reply=Hello, SDK.]]",
                                          instructions="Be brief.", metadata={"run": "1"})
    assert response.output_text == "Hello, SDK." and response.status == "completed"
    assert response.instructions == "Be brief." and response.metadata == {"run": "1"}
    assert response.usage is not None and response.usage.total_tokens > 0
    again = await sdk.responses.retrieve(response.id)
    assert again.model_dump() == response.model_dump()


async def test_create_stream_raw_events(sdk: AsyncOpenAI) -> None:
    stream = await sdk.responses.create(model="claude/sonnet", input="[[fake:reply=one two three]] [[fake:chunks=3]]", stream=True)
    events = [event async for event in stream]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["one", " two", " three"]
    assert events[-1].response.output_text == "one two three"


async def test_stream_helper_final_response(sdk: AsyncOpenAI) -> None:
    async with sdk.responses.stream(model="copilot/gpt-5.4", input="[[fake:reply=Streamed by the helper.]]") as stream:
        deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Streamed by the helper."
    assert final.status == "completed"


async def test_delete_and_unknown_ids(sdk: AsyncOpenAI) -> None:
    response = await sdk.responses.create(model="copilot/gpt-5.4", input="hi")
    assert await sdk.responses.delete(response.id) is None
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.responses.retrieve(response.id)
    assert caught.value.code == "response_not_found"
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.create(model="copilot/gpt-5.4", input="x", previous_response_id="resp_nope")


async def test_input_items_list_paginates(sdk: AsyncOpenAI) -> None:
    items: Any = [{"role": "user", "content": f"item {i}"} for i in range(5)]
    response = await sdk.responses.create(model="copilot/gpt-5.4", input=items)
    newest_first = [item async for item in sdk.responses.input_items.list(response.id, limit=2)]
    assert [i.content[0].text for i in newest_first] == [f"item {i}" for i in (4, 3, 2, 1, 0)]  # type: ignore[union-attr]
    oldest_first = [item async for item in sdk.responses.input_items.list(response.id, limit=2, order="asc")]
    assert [i.id for i in oldest_first] == [i.id for i in reversed(newest_first)]
    page = await sdk.responses.input_items.list(response.id, limit=3, order="asc")
    assert len(page.data) == 3 and page.has_more is True


@pytest.mark.parametrize("model", MODELS)
async def test_tool_round_trip_by_previous_response_id(sdk: AsyncOpenAI, tmp_path: Path, record_dir: Path, model: str) -> None:
    first = await sdk.responses.create(model=model, input=first_input(tmp_path, model), tools=[WEATHER])  # type: ignore[list-item]
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id.startswith("call_") and call.id and call.id.startswith("fc_")
    second = await sdk.responses.create(
        model=model, previous_response_id=first.id, tools=[WEATHER],  # type: ignore[list-item]
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": TOOL_RESULT}],
    )
    assert second.output_text == "It is 22C and sunny in Paris." and second.previous_response_id == first.id
    prompt = max(cli_records(record_dir), key=lambda r: len(r["prompt"]))["prompt"]
    assert "Weather in Paris?" in prompt and "22C and sunny" in prompt and call.call_id in prompt
    # The chain goes on: the third turn sees all of it.
    third = await sdk.responses.create(model=model, previous_response_id=second.id, input="And tomorrow? [[fake:reply=Same.]]")
    assert third.output_text == "Same."
    prompts = [r["prompt"] for r in cli_records(record_dir)]
    assert any("It is 22C and sunny in Paris." in p and "And tomorrow?" in p for p in prompts)


@pytest.mark.parametrize("model", MODELS)
async def test_tool_round_trip_by_full_replay_streamed(sdk: AsyncOpenAI, tmp_path: Path, model: str) -> None:
    history: list[Any] = [{"role": "user", "content": first_input(tmp_path, model)}]
    async with sdk.responses.stream(model=model, input=history, tools=[WEATHER], store=False) as stream:  # type: ignore[list-item]
        first = await stream.get_final_response()
    (call,) = [item for item in first.output if item.type == "function_call"]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": TOOL_RESULT})
    async with sdk.responses.stream(model=model, input=history, tools=[WEATHER], store=False) as stream:  # type: ignore[list-item]
        second = await stream.get_final_response()
    assert second.output_text == "It is 22C and sunny in Paris."
    assert second.previous_response_id is None
