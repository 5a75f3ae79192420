"""The OpenAI Agents SDK with its default (Responses) model and a function tool, against the bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import agents
import agents.models.openai_provider
import pytest
from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI

from tests.conftest import cli_records
from tests.openapi.hooks import checked_httpx_client

CALL = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>'
CLAUDE_CALL = '<function_calls><invoke name="get_weather"><parameter name="city">Paris</parameter></invoke></function_calls>'


@pytest.fixture
async def run_config(client: TestClient) -> AsyncIterator[Any]:
    """The SDK's default model provider (Responses API) on an openai client pointed at the bridge; no tracing."""
    agents.set_tracing_disabled(True)  # or it would export traces to OpenAI
    async with AsyncOpenAI(base_url=str(client.make_url("/v1")), api_key="sk-agents", max_retries=0,
                           http_client=checked_httpx_client()) as openai_client:  # what it reads is schema-checked
        provider = agents.models.openai_provider.OpenAIProvider(openai_client=openai_client)
        yield agents.RunConfig(model_provider=provider, tracing_disabled=True)


def weather_agent(model: str, calls: list[str]) -> Any:
    @agents.function_tool
    def get_weather(city: str) -> str:
        """Return the weather for a city."""
        calls.append(city)
        return f"It is sunny in {city}. [[fake:reply=The weather in {city} is sunny.]]"

    return agents.Agent(name="Weather", instructions="Use the tool to answer.", tools=[get_weather], model=model)


def question(tmp_path: Path, call: str = CALL) -> str:
    reply = tmp_path / "call.txt"
    reply.write_text(call, encoding="utf-8")
    return f"What's the weather in Paris? [[fake:reply_file={reply}]]"


async def test_run_with_a_function_tool(run_config: Any, tmp_path: Path, record_dir: Path) -> None:
    calls: list[str] = []
    result = await agents.Runner.run(weather_agent("copilot/gpt-5.4", calls), question(tmp_path), run_config=run_config)
    assert calls == ["Paris"]  # the SDK ran our tool with the arguments the model wrote
    assert result.final_output == "The weather in Paris is sunny."
    assert [r.response_id[:5] for r in result.raw_responses] == ["resp_", "resp_"]  # both turns through /v1/responses
    records = cli_records(record_dir)
    assert len(records) == 2
    system = records[0]["files"]["AGENTS.md"]
    assert system.startswith("Use the tool to answer.") and "get_weather" in system
    assert "It is sunny in Paris." in records[1]["prompt"]  # the tool's output went back to the model


async def test_run_streamed_with_a_function_tool(run_config: Any, tmp_path: Path) -> None:
    calls: list[str] = []
    result = agents.Runner.run_streamed(weather_agent("copilot/gpt-5.4", calls), question(tmp_path), run_config=run_config)
    raw_types = [event.data.type async for event in result.stream_events() if event.type == "raw_response_event"]
    assert calls == ["Paris"] and result.final_output == "The weather in Paris is sunny."
    assert raw_types.count("response.completed") == 2
    assert "response.function_call_arguments.delta" in raw_types and "response.output_text.delta" in raw_types


async def test_run_continues_by_previous_response_id(run_config: Any, tmp_path: Path, record_dir: Path) -> None:
    calls: list[str] = []
    agent = weather_agent("claude/sonnet", calls)
    result = await agents.Runner.run(agent, question(tmp_path, CLAUDE_CALL), run_config=run_config, auto_previous_response_id=True)
    assert calls == ["Paris"] and result.final_output == "The weather in Paris is sunny."
    follow = await agents.Runner.run(agent, "And tomorrow? [[fake:reply=Sunny again.]]", run_config=run_config,
                                     previous_response_id=result.last_response_id)
    assert follow.final_output == "Sunny again."
    (prompt,) = [r["prompt"] for r in cli_records(record_dir) if "And tomorrow?" in r["prompt"]]
    # Only the new message was sent; the bridge put the stored conversation before it.
    assert "What's the weather in Paris?" in prompt and "The weather in Paris is sunny." in prompt and "And tomorrow?" in prompt
