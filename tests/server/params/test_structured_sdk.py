"""response_format and required tool calls through the openai SDK and the fake CLIs, with repair turns.

The fake CLIs pick up directives anywhere in the prompt, the model's own earlier answers
included: a first answer that carries `[[fake:reply_file=…]]` makes the repair turn (which
shows the model its rejected answer) answer with that file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI
from pydantic import BaseModel

from tests.conftest import MakeClient, cli_records, scenario
from tests.server.params.param_helpers import (
    CLOCK,
    MODELS,
    PERSON_SCHEMA,
    WEATHER,
    answer_of,
    sdk_for,
)

ADA = '{"name": "Ada", "age": 36}'
CALL = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'


class Person(BaseModel):
    name: str
    age: int


def reply_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def asks(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def system_prompt(record: dict[str, Any]) -> str:
    return str(record.get("system_prompt_file_content") or record["files"].get("AGENTS.md") or "")


def first_then(tmp_path: Path, first: str, then: str) -> str:
    """A prompt whose first answer is `first` and whose repair turn answers `then`."""
    second = reply_file(tmp_path, "second.txt", then)
    return f"[[fake:reply_file={reply_file(tmp_path, 'first.txt', f'{first} [[fake:reply_file={second}]]')}]]"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
async def test_json_schema_is_instructed_and_answered(
    sdk: AsyncOpenAI, record_dir: Path, tmp_path: Path, model: str, stream: bool
) -> None:
    fenced = reply_file(tmp_path, "fenced.txt", f"```json\n{ADA}\n```")
    got = await answer_of(sdk, stream, model=model, messages=asks(f"Who? [[fake:reply_file={fenced}]]"),
                          response_format=PERSON_SCHEMA)
    assert got.content == ADA and got.finish_reason == "stop"
    assert got.chunks <= 3  # role, the whole JSON, the finish: held until validated, then sent at once
    (record,) = cli_records(record_dir)
    assert '"required": ["name", "age"]' in system_prompt(record) and "no Markdown code fence" in system_prompt(record)


@pytest.mark.parametrize("model", MODELS)
async def test_the_sdk_parse_helpers_get_a_parsed_object(sdk: AsyncOpenAI, model: str) -> None:
    messages = asks(f"Who? [[fake:reply={ADA}]]")
    parsed = await sdk.chat.completions.parse(model=model, messages=messages, response_format=Person)  # type: ignore[arg-type]
    assert parsed.choices[0].message.parsed == Person(name="Ada", age=36)
    async with sdk.chat.completions.stream(model=model, messages=messages, response_format=Person) as stream:  # type: ignore[arg-type]
        final = await stream.get_final_completion()
    assert final.choices[0].message.parsed == Person(name="Ada", age=36)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
async def test_invalid_json_is_repaired_in_one_more_turn(
    sdk: AsyncOpenAI, record_dir: Path, tmp_path: Path, model: str, stream: bool
) -> None:
    prompt = first_then(tmp_path, "Sure! Ada is 36.", ADA)
    got = await answer_of(sdk, stream, model=model, messages=asks(prompt), response_format={"type": "json_object"})
    assert json.loads(got.content or "") == {"name": "Ada", "age": 36}
    first, second = sorted(cli_records(record_dir), key=lambda r: len(r["prompt"]))
    assert "Sure! Ada is 36." in second["prompt"] and "not JSON" in second["prompt"]
    assert "not JSON" not in first["prompt"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
async def test_json_that_stays_invalid_is_a_502_and_not_retried_by_the_sdk(
    client: TestClient, record_dir: Path, model: str, stream: bool
) -> None:
    schema_miss = scenario("ok", reply='{"name": "Ada"}')
    async with sdk_for(client) as sdk:  # max_retries=2
        with pytest.raises(openai.InternalServerError) as failed:
            await answer_of(sdk, stream, model=model, messages=asks(schema_miss), response_format=PERSON_SCHEMA)
    error = failed.value
    assert (error.status_code, error.code, error.param) == (502, "invalid_model_output", "response_format")
    assert "'age' is a required property" in error.message
    assert error.response.headers["x-should-retry"] == "false"
    assert len(cli_records(record_dir)) == 2  # the answer and its repair turn; no SDK retries


async def test_a_stream_already_started_ends_with_an_error_event(make_client: MakeClient, record_dir: Path) -> None:
    client = await make_client(config={"STREAM_KEEPALIVE": "0.1"})
    slow_prose = scenario("slow", delay="0.3", reply="no json here")
    async with sdk_for(client, max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(
            model="claude/sonnet", messages=asks(slow_prose), response_format={"type": "json_object"}, stream=True
        )
        contents = []
        with pytest.raises(openai.APIError, match="response_format"):
            async for chunk in stream:
                contents += [c.delta.content for c in chunk.choices if c.delta.content]
    assert contents == []  # the invalid answer never reached the client
    assert len(cli_records(record_dir)) == 2


CHOICES = ["required", {"type": "function", "function": {"name": "get_weather"}}]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("choice", CHOICES, ids=["required", "named"])
@pytest.mark.parametrize("model", MODELS)
async def test_prose_instead_of_a_required_call_gets_a_firmer_retry(
    sdk: AsyncOpenAI, record_dir: Path, tmp_path: Path, model: str, choice: Any, stream: bool
) -> None:
    prompt = "Weather in Paris? " + first_then(tmp_path, "It is probably sunny.", "Let me look. " + CALL)
    got = await answer_of(sdk, stream, model=model, messages=asks(prompt), tools=[WEATHER, CLOCK], tool_choice=choice)
    assert got.calls == [("get_weather", {"city": "Paris"})] and got.finish_reason == "tool_calls"
    assert got.content in ("Let me look.", "Let me look. ")
    prompts = sorted((r["prompt"] for r in cli_records(record_dir)), key=len)
    assert "It is probably sunny." in prompts[1] and "must be a tool call" in prompts[1]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
async def test_prose_twice_is_a_502_for_tool_choice(sdk: AsyncOpenAI, record_dir: Path, model: str, stream: bool) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        await answer_of(sdk, stream, model=model, messages=asks("Weather?"), tools=[WEATHER], tool_choice="required")
    assert (failed.value.status_code, failed.value.code, failed.value.param) == (502, "invalid_model_output", "tool_choice")
    assert "not a tool call" in failed.value.message
    assert len(cli_records(record_dir)) == 2


@pytest.mark.parametrize("stream", [False, True])
async def test_a_call_answer_streams_without_a_repair(sdk: AsyncOpenAI, record_dir: Path, stream: bool) -> None:
    prompt = f"Weather? [[fake:reply=Checking. {CALL}]] [[fake:chunks=6]]"
    got = await answer_of(sdk, stream, model="copilot/gpt-5.4", messages=asks(prompt), tools=[WEATHER], tool_choice="required")
    assert got.calls == [("get_weather", {"city": "Paris"})] and len(cli_records(record_dir)) == 1
