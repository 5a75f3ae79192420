"""Real `copilot` and `claude` through the running bridge, the openai SDK as client."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openai import AsyncOpenAI
from openai.lib.streaming.chat import ChatCompletionStreamState

from tests.conftest import MakeClient
from tests.openapi.hooks import checked_httpx_client, checked_session
from tests.processes import processes_with
from tests.realcli.conftest import real_cli
from tests.server.dialect_replies import REPLIES, WEATHER_TOOL
from tests.server.params.media_helpers import BLUE, RED, THINKING, data_url

pytestmark = pytest.mark.realcli
MODELS = ["copilot/gpt-5.4", "claude/sonnet"]


@pytest.fixture
async def real_sdk(make_client: MakeClient, real_env: dict[str, str]) -> Any:
    client = await make_client(
        env=real_env,
        config={"COPILOT_CLI_PATH": real_cli("copilot"), "CLAUDE_CLI_PATH": real_cli("claude")},
        request_timeout_ms=90_000,
    )
    async with AsyncOpenAI(
        base_url=str(client.make_url("/v1")), api_key="k", max_retries=0, http_client=checked_httpx_client()
    ) as sdk:
        yield sdk


async def model_requests(base_url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/_fake/requests") as resp:
        return list(await resp.json())


@pytest.mark.parametrize("model", MODELS)
async def test_real_cli_non_stream_and_system_prompt(real_sdk: AsyncOpenAI, model_server: str, model: str) -> None:
    completion = await real_sdk.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "SYSTEM-MARKER-42: answer briefly."},
            {"role": "user", "content": "Say hi [[fake:reply=Hello from the real CLI.]]"},
        ],
    )
    assert completion.choices[0].message.content == "Hello from the real CLI."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    bodies = json.dumps([r["body"] for r in await model_requests(model_server)])
    assert "SYSTEM-MARKER-42" in bodies  # AGENTS.md (Copilot) or --system-prompt-file (Claude) reached the model


@pytest.mark.parametrize("model", MODELS)
async def test_real_cli_stream_with_usage(real_sdk: AsyncOpenAI, model: str) -> None:
    stream = await real_sdk.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Count [[fake:reply=one two three four five six]] [[fake:chunks=6]]"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    async for chunk in stream:
        usage = chunk.usage or usage
        pieces += [c.delta.content for c in chunk.choices if c.delta.content]
    assert "".join(pieces) == "one two three four five six"
    assert len(pieces) > 1  # it really streamed
    assert usage is not None and usage.total_tokens > 0


@pytest.mark.parametrize(("model", "dialect"), [("copilot/gpt-5.4", "hermes"), ("claude/sonnet", "claude_xml")])
async def test_real_cli_tool_call_round_trip(real_sdk: AsyncOpenAI, tmp_path: Path, model: str, dialect: str) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text(REPLIES[dialect], encoding="utf-8")
    messages: list[Any] = [{"role": "user", "content": f"Weather in Paris? [[fake:reply_file={reply}]] [[fake:chunks=9]]"}]
    stream = await real_sdk.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL], stream=True)  # type: ignore[arg-type]
    state = ChatCompletionStreamState()
    async for chunk in stream:
        state.handle_chunk(chunk)
    choice = state.get_final_completion().choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 3}
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump(exclude={"parsed_arguments"})]},
        {"role": "tool", "tool_call_id": call.id, "content": "22C [[fake:reply=It is 22C in Paris.]]"},
    ]
    final = await real_sdk.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])  # type: ignore[arg-type]
    assert final.choices[0].message.content == "It is 22C in Paris."


async def test_real_cli_model_rejected_is_404(real_sdk: AsyncOpenAI, make_client: MakeClient) -> None:
    import openai

    with pytest.raises(openai.NotFoundError):
        await real_sdk.chat.completions.create(
            model="copilot/gpt-5.4", messages=[{"role": "user", "content": "hi [[fake:status=404]]"}]
        )


async def test_real_copilot_leaves_no_session_behind(real_sdk: AsyncOpenAI, real_env: dict[str, str]) -> None:
    import sqlite3

    for _ in range(2):
        await real_sdk.chat.completions.create(model="copilot/gpt-5.4", messages=[{"role": "user", "content": "secret prompt"}])
    home = Path(real_env["HOME"]) / ".copilot"
    state = home / "session-state"
    # Answers go out at the CLI's result line; its session is removed in the background once it exits.
    for _ in range(100):
        if not [p for p in state.iterdir() if not p.name.startswith(".")]:
            break
        await asyncio.sleep(0.1)
    assert [p.name for p in state.iterdir() if not p.name.startswith(".")] == []
    assert list((state / ".session-operation-locks").glob("*.lock")) == []
    with sqlite3.connect(home / "session-store.db") as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM turns").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM search_index WHERE content LIKE '%secret prompt%'").fetchone()[0] == 0




@pytest.mark.parametrize("model", MODELS)
async def test_real_cli_tree_is_gone_after_a_disconnect(
    make_client: MakeClient, real_env: dict[str, str], model: str, tmp_path: Path
) -> None:
    import asyncio

    client = await make_client(env=real_env, config={"COPILOT_CLI_PATH": real_cli("copilot"), "CLAUDE_CLI_PATH": real_cli("claude")})
    marker = real_env["COPILOT_PROVIDER_API_KEY"] if model.startswith("copilot") else real_env["ANTHROPIC_API_KEY"]
    body = {"model": model, "stream": True,
            "messages": [{"role": "user", "content": "[[fake:reply=one two three four five six]] [[fake:chunks=6]] [[fake:delay=1]]"}]}
    async with checked_session() as session:
        resp = await session.post(client.make_url("/v1/chat/completions"), json=body)
        await resp.content.readuntil(b'"content":"one')
        assert processes_with(marker), "the real CLI should be running mid-stream"
        resp.close()
    for _ in range(40):
        if not processes_with(marker):
            break
        await asyncio.sleep(0.05)
    assert processes_with(marker) == []
    temp_base = tmp_path / "bridge-tmp"
    for _ in range(40):
        if not list(temp_base.iterdir()):
            break
        await asyncio.sleep(0.05)
    assert list(temp_base.iterdir()) == []


@pytest.mark.parametrize(("model", "dialect"), [("copilot/gpt-5.4", "hermes"), ("claude/sonnet", "claude_xml")])
async def test_real_cli_responses_tool_round_trip(real_sdk: AsyncOpenAI, tmp_path: Path, model: str, dialect: str) -> None:
    """One Responses round trip per real CLI: a streamed function call, then its output by previous_response_id."""
    reply = tmp_path / "reply.txt"
    reply.write_text(REPLIES[dialect], encoding="utf-8")
    tool: Any = {"type": "function", "name": "get_weather", "description": WEATHER_TOOL["function"]["description"],  # type: ignore[index]
                 "parameters": WEATHER_TOOL["function"]["parameters"], "strict": False}  # type: ignore[index]
    question = f"Weather in Paris? [[fake:reply_file={reply}]] [[fake:chunks=9]]"
    async with real_sdk.responses.stream(model=model, input=question, instructions="Answer briefly.", tools=[tool]) as stream:
        kinds = [event.type async for event in stream]
        first = await stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in kinds
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris", "days": 3}
    final = await real_sdk.responses.create(
        model=model, previous_response_id=first.id, tools=[tool],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "22C [[fake:reply=It is 22C in Paris.]]"}],
    )
    assert final.output_text == "It is 22C in Paris." and final.usage is not None and final.usage.input_tokens > 0


def answered(requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The one chat request the model server answered (not Claude's title side request)."""
    (body,) = [r["body"] for r in requests if r["method"] == "POST" and isinstance(r["body"], dict)
               and "messages" in r["body"] and not (r["body"].get("output_config") or {}).get("format")]
    return body


@pytest.mark.parametrize("model", MODELS)
async def test_real_cli_reasoning_streams_apart_and_the_effort_reaches_the_model(
    real_sdk: AsyncOpenAI, model_server: str, model: str
) -> None:
    stream = await real_sdk.chat.completions.create(
        model=model, stream=True, reasoning_effort="low",
        messages=[{"role": "user", "content": f"Think first [[fake:reasoning={THINKING}]] [[fake:reply=Done thinking.]]"}])
    content, reasoning = [], []
    async for chunk in stream:
        for choice in chunk.choices:
            content.append(choice.delta.content or "")
            reasoning.append(getattr(choice.delta, "reasoning_content", None) or "")
    assert "".join(content) == "Done thinking." and "".join(reasoning) == THINKING
    body = answered(await model_requests(model_server))
    if model.startswith("copilot/"):
        assert body["reasoning_effort"] == "low"  # --reasoning-effort / the session's reasoningEffort
    else:
        assert body["output_config"]["effort"] == "low"  # apply_flag_settings {effortLevel}
        assert body["thinking"] == {"type": "adaptive"}


@pytest.mark.parametrize("model", MODELS)
async def test_real_cli_image_reaches_the_model(real_sdk: AsyncOpenAI, model_server: str, model: str) -> None:
    completion = await real_sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": [
        {"type": "text", "text": "Which colours? [[fake:reply=Red and blue.]]"},
        {"type": "image_url", "image_url": {"url": data_url(RED)}}, {"type": "image_url", "image_url": {"url": data_url(BLUE)}}]}])
    assert completion.choices[0].message.content == "Red and blue."
    content = answered(await model_requests(model_server))["messages"][-1]["content"]
    if model.startswith("copilot/"):  # each image after a text part naming its file
        images = [p["image_url"]["url"] for p in content if p["type"] == "image_url"]
        names = [p["text"] for p in content if p["type"] == "text" and "image-" in p["text"]]
        assert images == [data_url(RED), data_url(BLUE)]
        assert [n.rsplit("/", 1)[-1] for n in names] == ["image-1.png", "image-2.png"]
    else:  # image blocks right after the text, as sent
        assert [p["type"] for p in content][-3:] == ["text", "image", "image"]
        assert [p["source"]["data"] for p in content if p["type"] == "image"] == [
            data_url(RED).split(",")[1], data_url(BLUE).split(",")[1]]

