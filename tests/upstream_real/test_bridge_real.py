"""The bridge in front of the real llama-cpp-python server (Qwen2.5-Coder-0.5B), driven by the openai SDK.

The model's text varies with the server's KV cache, so the tests assert structure (ids, shapes,
a real tool call), not exact words. The bare JSON call this model writes must come out as a
real OpenAI tool call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai import AsyncOpenAI
from openai.lib.streaming.chat import ChatCompletionStreamState

from tests.conftest import MakeClient
from tests.openapi.hooks import checked_httpx_client
from tests.upstream_real.conftest import LlmServer

pytestmark = pytest.mark.realupstream

WEATHER: list[Any] = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city name"}},
                   "required": ["city"]}}}]
HELLO: list[Any] = [{"role": "user", "content": "Say hello in three words."}]


@pytest.fixture
async def bridge_sdk(make_client: MakeClient, llm_server: LlmServer) -> AsyncIterator[tuple[AsyncOpenAI, str]]:
    """The SDK pointed at a bridge whose only backend is the real server; and the model's public id."""
    client = await make_client(config={"SERVICE": "upstream", "BACKEND_URL": llm_server.base_url,
                                       "REQUEST_TIMEOUT": "120000"})
    async with AsyncOpenAI(base_url=str(client.make_url("/v1")), api_key="unused", max_retries=0, timeout=120,
                           http_client=checked_httpx_client()) as sdk:
        yield sdk, f"upstream/{llm_server.model}"


async def test_models(bridge_sdk: tuple[AsyncOpenAI, str]) -> None:
    sdk, model = bridge_sdk
    assert [(m.id, m.owned_by) async for m in sdk.models.list()] == [(model, "me")]


async def test_chat_whole_and_streamed(bridge_sdk: tuple[AsyncOpenAI, str]) -> None:
    sdk, model = bridge_sdk
    whole = await sdk.chat.completions.create(model=model, messages=HELLO, max_tokens=16, temperature=0, seed=1)
    assert whole.model == model and (whole.choices[0].message.content or "").strip()
    assert whole.choices[0].finish_reason in ("stop", "length")
    assert whole.usage is not None and whole.usage.completion_tokens > 0 and whole.usage.prompt_tokens > 0
    stream = await sdk.chat.completions.create(model=model, messages=HELLO, max_tokens=16, temperature=0, stream=True,
                                               stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant" and {c.model for c in chunks} == {model}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip()
    assert len([c for c in chunks if c.choices and c.choices[0].finish_reason]) == 1
    # llama-cpp-python sends no usage in streams: the bridge's estimate fills the usage chunk.
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


async def test_text_completions(bridge_sdk: tuple[AsyncOpenAI, str]) -> None:
    sdk, model = bridge_sdk
    whole = await sdk.completions.create(model=model, prompt="def add(a, b):", max_tokens=12, temperature=0)
    assert whole.object == "text_completion" and whole.model == model and whole.choices[0].text
    stream = await sdk.completions.create(model=model, prompt="def add(a, b):", max_tokens=6, temperature=0, stream=True)
    pieces = [chunk async for chunk in stream]
    assert "".join(c.choices[0].text for c in pieces) and pieces[-1].choices[0].finish_reason == "length"
    assert {c.model for c in pieces} == {model}


async def test_embeddings(bridge_sdk: tuple[AsyncOpenAI, str]) -> None:
    # This model has no pooling in llama-cpp-python (one 896-dim vector per token); the bridge
    # pools them, so the client gets one unit vector per input, as from OpenAI.
    sdk, model = bridge_sdk
    answer = await sdk.embeddings.create(model=model, input=["hello world", "a"])
    assert answer.model == model and [item.index for item in answer.data] == [0, 1]
    for item in answer.data:
        assert len(item.embedding) == 896 and all(isinstance(x, float) for x in item.embedding)
        assert abs(sum(x * x for x in item.embedding) - 1) < 1e-6
    assert answer.data[0].embedding != answer.data[1].embedding


@pytest.mark.parametrize("stream", [False, True])
async def test_a_bare_json_answer_becomes_a_tool_call_and_the_round_trip_works(
        bridge_sdk: tuple[AsyncOpenAI, str], stream: bool) -> None:
    sdk, model = bridge_sdk
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    kwargs: dict[str, Any] = {"model": model, "tools": WEATHER, "temperature": 0, "seed": 7, "max_tokens": 48}
    if stream:
        state = ChatCompletionStreamState()
        async for chunk in await sdk.chat.completions.create(messages=messages, stream=True, **kwargs):
            state.handle_chunk(chunk)
        answer = state.get_final_completion()
    else:
        answer = await sdk.chat.completions.create(messages=messages, **kwargs)
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls", choice.message.content
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    assert "paris" in json.loads(call.function.arguments)["city"].lower()
    assert not (choice.message.content or "").strip()
    # The result goes back: an assistant turn with tool_calls and no content (the real server
    # refuses `content: null` with a 500), then the tool's answer. It is taken as it is, no fallback.
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "22 degrees Celsius and sunny"}]
    raw = await sdk.chat.completions.with_raw_response.create(messages=messages, **{**kwargs, "max_tokens": 24})
    final = raw.parse()  # (what this small model says next varies; it sometimes calls the tool again)
    assert raw.status_code == 200 and "X-Bridge-Fallbacks" not in raw.headers
    assert final.choices[0].finish_reason in ("stop", "length", "tool_calls")
