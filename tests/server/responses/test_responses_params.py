"""Responses parameters through the answer pipeline: text.format, required tool calls, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI
from pydantic import BaseModel

from tests.conftest import cli_records, scenario
from tests.server.params.param_helpers import sdk_for
from tests.server.responses.responses_helpers import WEATHER, kinds, read_events

MODELS = ["copilot/gpt-5.4", "claude/sonnet"]
ADA = '{"name": "Ada", "age": 36}'


class Person(BaseModel):
    name: str
    age: int


def first_then(tmp_path: Path, first: str, then: str) -> str:
    """A prompt whose first answer is `first` and whose repair turn answers `then` (see tests/fakes/README.md)."""
    second = tmp_path / "second.txt"
    second.write_text(then, encoding="utf-8")
    first_file = tmp_path / "first.txt"
    first_file.write_text(f"{first} [[fake:reply_file={second}]]", encoding="utf-8")
    return f"[[fake:reply_file={first_file}]]"


@pytest.mark.parametrize("model", MODELS)
async def test_parse_with_a_text_format_gets_a_parsed_object(sdk: AsyncOpenAI, tmp_path: Path, record_dir: Path, model: str) -> None:
    fenced = tmp_path / "fenced.txt"
    fenced.write_text(f"```json\n{ADA}\n```", encoding="utf-8")
    parsed = await sdk.responses.parse(model=model, input=f"Who? [[fake:reply_file={fenced}]]", text_format=Person)
    assert parsed.output_parsed == Person(name="Ada", age=36)
    (record,) = cli_records(record_dir)
    system = str(record.get("system_prompt_file_content") or record["files"].get("AGENTS.md"))
    assert '"required": ["name", "age"]' in system  # text.format reached the model as an instruction


async def test_invalid_json_is_repaired_and_a_stream_sends_it_whole(client: TestClient, tmp_path: Path) -> None:
    body = {"model": "claude/sonnet", "stream": True, "input": first_then(tmp_path, "Sure! Ada is 36.", ADA),
            "text": {"format": {"type": "json_object"}}}
    events = await read_events(await client.post("/v1/responses", json=body))
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas == [ADA]  # held until valid, then sent at once
    assert json.loads(events[-1]["response"]["output"][0]["content"][0]["text"]) == {"name": "Ada", "age": 36}


async def test_json_that_stays_invalid_is_a_502_naming_text_format(client: TestClient, record_dir: Path) -> None:
    async with sdk_for(client) as sdk:  # the SDK's default retries: the error says not to
        with pytest.raises(openai.InternalServerError) as failed:
            await sdk.responses.parse(model="copilot/gpt-5.4", input=scenario("ok", reply='{"name": "Ada"}'), text_format=Person)
    assert (failed.value.status_code, failed.value.code, failed.value.param) == (502, "invalid_model_output", "text.format")
    assert len(cli_records(record_dir)) == 2  # the answer and its repair turn


async def test_required_tool_call_gets_one_retry(client: TestClient, tmp_path: Path, record_dir: Path) -> None:
    call = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
    body = {"model": "copilot/gpt-5.4", "input": first_then(tmp_path, "It is probably sunny.", call),
            "tools": [WEATHER], "tool_choice": "required", "stream": True}
    events = await read_events(await client.post("/v1/responses", json=body))
    assert "output_text.delta" not in kinds(events)  # the prose answer was held back, then replaced
    (item,) = events[-1]["response"]["output"]
    assert item["type"] == "function_call" and json.loads(item["arguments"]) == {"city": "Paris"}
    assert events[-1]["response"]["tool_choice"] == "required"
    assert len(cli_records(record_dir)) == 2


async def test_what_no_backend_can_do_is_a_400(client: TestClient) -> None:
    resp = await client.post("/v1/responses", json={"model": "copilot/gpt-5.4", "input": "x", "top_logprobs": 5})
    error = (await resp.json())["error"]
    assert resp.status == 400 and (error["code"], error["param"]) == ("unsupported_value", "top_logprobs")
    assert resp.headers["x-should-retry"] == "false"
