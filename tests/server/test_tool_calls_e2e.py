"""Tool calls end to end: fake CLIs answer in every dialect; the openai SDK gets real tool_calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai import AsyncOpenAI
from openai.lib.streaming.chat import ChatCompletionStreamState

from tests.conftest import MakeClient, cli_records
from tests.server.dialect_replies import REPLIES, WEATHER_TOOL

MODELS = ["copilot/gpt-5.4", "claude/sonnet"]


def reply_file(tmp_path: Path, dialect: str) -> Path:
    path = tmp_path / f"reply-{dialect}.txt"
    path.write_text(REPLIES[dialect], encoding="utf-8")
    return path


def first_turn(path: Path) -> list[dict[str, Any]]:
    return [{"role": "user", "content": f"What is the weather in Paris? [[fake:reply_file={path}]] [[fake:chunks=7]]"}]


@pytest.mark.parametrize("dialect", sorted(REPLIES))
@pytest.mark.parametrize("model", MODELS)
async def test_non_stream_tool_call_and_round_trip(sdk: AsyncOpenAI, tmp_path: Path, dialect: str, model: str) -> None:
    messages = first_turn(reply_file(tmp_path, dialect))
    completion = await sdk.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 3}
    assert "<" not in (choice.message.content or "") and "[TOOL" not in (choice.message.content or "")
    # Send the result back; the next answer is plain text.
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "22C and sunny [[fake:reply=It is 22C and sunny in Paris.]]"},
    ]
    final = await sdk.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])  # type: ignore[arg-type]
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == "It is 22C and sunny in Paris."


@pytest.mark.parametrize("dialect", sorted(REPLIES))
@pytest.mark.parametrize("model", MODELS)
async def test_stream_tool_call_accumulates_like_the_sdk(sdk: AsyncOpenAI, tmp_path: Path, dialect: str, model: str) -> None:
    stream = await sdk.chat.completions.create(
        model=model, messages=first_turn(reply_file(tmp_path, dialect)), tools=[WEATHER_TOOL], stream=True  # type: ignore[list-item]
    )
    state = ChatCompletionStreamState()
    names_seen = 0
    async for chunk in stream:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                names_seen += bool(tc.function and tc.function.name)
                assert tc.index == 0
        state.handle_chunk(chunk)
    final = state.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert names_seen == 1  # the name goes out exactly once
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 3}
    assert "get_weather" not in (choice.message.content or "")


async def test_parallel_calls_and_legacy_functions(sdk: AsyncOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "two.txt"
    path.write_text(
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>\n'
        '<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>',
        encoding="utf-8",
    )
    completion = await sdk.chat.completions.create(
        model="copilot/gpt-5.4", messages=first_turn(path), tools=[WEATHER_TOOL]  # type: ignore[list-item]
    )
    calls = completion.choices[0].message.tool_calls or []
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Oslo"]
    assert len({c.id for c in calls}) == 2
    legacy = await sdk.chat.completions.create(
        model="copilot/gpt-5.4", messages=first_turn(path), functions=[WEATHER_TOOL["function"]]  # type: ignore[list-item]
    )
    assert legacy.choices[0].finish_reason == "function_call"
    assert legacy.choices[0].message.function_call is not None
    assert legacy.choices[0].message.function_call.name == "get_weather"


async def test_tools_rendered_into_system_prompt_and_history(sdk: AsyncOpenAI, tmp_path: Path, record_dir: Path) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_x", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_x", "content": "22C"},
    ]
    await sdk.chat.completions.create(model="claude/sonnet", messages=messages, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    (record,) = cli_records(record_dir)
    system = record["system_prompt_file_content"]
    assert "get_weather" in system and "Current weather for a city" in system
    assert "<invoke" in system  # Claude models get the Anthropic-style dialect
    prompt = json.loads(record["stdin"])["message"]["content"][0]["text"]
    assert '<invoke name="get_weather">' in prompt and "22C" in prompt


async def test_unknown_tool_name_stays_text(sdk: AsyncOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "unknown.txt"
    path.write_text('<tool_call>{"name": "launch_rockets", "arguments": {}}</tool_call>', encoding="utf-8")
    completion = await sdk.chat.completions.create(
        model="copilot/gpt-5.4", messages=first_turn(path), tools=[WEATHER_TOOL]  # type: ignore[list-item]
    )
    assert completion.choices[0].finish_reason == "stop"
    assert not completion.choices[0].message.tool_calls


async def test_conversion_switch_off_passes_markup_through(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(enable_tool_call_conversion=False)
    path = reply_file(tmp_path, "hermes")
    resp = await client.post("/v1/chat/completions", json={
        "model": "copilot/gpt-5.4", "messages": first_turn(path), "tools": [WEATHER_TOOL]})
    body = await resp.json()
    assert body["choices"][0]["finish_reason"] == "stop"
    assert "<tool_call>" in body["choices"][0]["message"]["content"]


async def test_schema_problems_are_reported_not_hidden(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client()
    path = tmp_path / "bad.txt"
    path.write_text('<tool_call>{"name": "get_weather", "arguments": {"days": "three"}}</tool_call>', encoding="utf-8")
    resp = await client.post("/v1/chat/completions", json={
        "model": "copilot/gpt-5.4", "messages": first_turn(path), "tools": [WEATHER_TOOL]})
    body = await resp.json()
    (call,) = body["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == {"days": "three"}  # passed on, but flagged
    warning = resp.headers["X-Bridge-Tool-Call-Warnings"]
    assert "city" in warning and "days" in warning
