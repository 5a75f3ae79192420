"""Direct sanity tests of the real llama-cpp-python server, and of the fake's copy of it.

The model is tiny and its text varies with the server's KV cache (see
shared/reference/local-model-server.md), so the tests assert structure: SSE framing, JSON shapes,
a parseable tool call. The last group sends the same requests to the real server and to the fake
upstream's `llama_cpp_python` personality and checks they answer alike, so the fake stays honest.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from openai import AsyncOpenAI

from tests.fakes.upstream_server import running_upstream_server
from tests.upstream_real.conftest import LlmServer

pytestmark = pytest.mark.realupstream

WEATHER = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city name"}},
                   "required": ["city"]}}}]
HELLO = [{"role": "user", "content": "Say hello in three words."}]


@pytest.fixture
async def sdk(llm_server: LlmServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=llm_server.base_url, api_key="unused", max_retries=0, timeout=120) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, str]:
    async with http.post(url, json=body) as response:
        return response.status, await response.text()


def sse_payloads(text: str) -> list[str]:
    """`data:` payloads, checking the framing: each event is one `data: ` line and a blank line."""
    assert text.endswith("\n\n") and "\r" not in text
    events = [event for event in text.split("\n\n") if event]
    assert all(event.startswith("data: ") and "\n" not in event for event in events), events
    return [event.removeprefix("data: ") for event in events]


# ---------------------------------------------------------------------------- the real server


async def test_models_lists_the_alias(sdk: AsyncOpenAI, llm_server: LlmServer) -> None:
    models = [model async for model in sdk.models.list()]
    assert [(m.id, m.owned_by) for m in models] == [(llm_server.model, "me")]


async def test_chat_whole(sdk: AsyncOpenAI) -> None:
    answer = await sdk.chat.completions.create(model="any-name-works", messages=HELLO, max_tokens=16,
                                               temperature=0, seed=1)
    choice = answer.choices[0]
    assert isinstance(choice.message.content, str) and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length") and answer.model == "any-name-works"
    assert answer.usage is not None and answer.usage.completion_tokens > 0 and answer.usage.prompt_tokens > 0


async def test_chat_streamed_raw_and_through_the_sdk(sdk: AsyncOpenAI, http: aiohttp.ClientSession,
                                                     llm_server: LlmServer) -> None:
    body = {"model": "m", "messages": HELLO, "max_tokens": 16, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    status, text = await post(http, llm_server.base_url + "/chat/completions", body)
    payloads = sse_payloads(text)
    assert status == 200 and payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert chunks[-1]["choices"][0]["delta"] == {} and chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks).strip()
    assert all(c["choices"] for c in chunks)  # include_usage is ignored: no usage chunk
    stream = await sdk.chat.completions.create(model="m", messages=HELLO, max_tokens=16, temperature=0, stream=True)
    content = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert content.strip()


async def test_text_completions_whole_and_streamed(sdk: AsyncOpenAI) -> None:
    whole = await sdk.completions.create(model="m", prompt="def add(a, b):", max_tokens=12, temperature=0)
    assert whole.object == "text_completion" and whole.choices[0].text
    stream = await sdk.completions.create(model="m", prompt="def add(a, b):", max_tokens=6, temperature=0,
                                          stream=True)
    pieces = [c async for c in stream]
    assert "".join(c.choices[0].text for c in pieces) and pieces[-1].choices[0].finish_reason == "length"


async def test_embeddings_are_one_vector_per_token(http: aiohttp.ClientSession, llm_server: LlmServer) -> None:
    # Qwen has no pooling in llama-cpp-python: each input gives a list of 896-dim token vectors,
    # and encoding_format is ignored (floats even when base64 is asked for, as the SDK does).
    status, text = await post(http, llm_server.base_url + "/embeddings",
                              {"model": "m", "input": ["hello world", "a"], "encoding_format": "base64"})
    body = json.loads(text)
    assert status == 200 and [item["index"] for item in body["data"]] == [0, 1]
    for item in body["data"]:
        vectors = item["embedding"]
        assert isinstance(vectors, list) and len(vectors) >= 1
        assert all(isinstance(vec, list) and len(vec) == 896 for vec in vectors)
    assert body["usage"]["prompt_tokens"] >= 2


async def test_tool_request_is_answered_with_a_bare_json_call_as_text(sdk: AsyncOpenAI) -> None:
    answer = await sdk.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=WEATHER, temperature=0, seed=7, max_tokens=48)  # type: ignore[arg-type]
    message = answer.choices[0].message
    assert message.tool_calls is None and answer.choices[0].finish_reason == "stop"
    assert message.content is not None
    assert json.loads(message.content) == {"name": "get_weather", "arguments": {"city": "Paris"}}


# ---------------------------------------------------------------------------- the fake agrees


async def test_fake_models_list_is_the_real_one(http: aiohttp.ClientSession, llm_server: LlmServer) -> None:
    async with running_upstream_server("llama_cpp_python") as fake, http.get(fake + "/models") as response:
        fake_body = await response.json()
    async with http.get(llm_server.base_url + "/models") as response:
        assert await response.json() == fake_body


async def test_fake_stream_has_the_real_shape(http: aiohttp.ClientSession, llm_server: LlmServer) -> None:
    body = {"model": "m", "messages": HELLO, "max_tokens": 8, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    async with running_upstream_server("llama_cpp_python") as fake:
        _, fake_text = await post(http, fake + "/chat/completions", body)
    _, real_text = await post(http, llm_server.base_url + "/chat/completions", body)

    def shape(text: str) -> list[Any]:
        chunks = [json.loads(p) for p in sse_payloads(text)[:-1]]
        return [(tuple(sorted(c)), tuple(sorted(c["choices"][0])), tuple(sorted(c["choices"][0]["delta"])))
                for c in chunks]

    real, fake_shape = shape(real_text), shape(fake_text)
    assert real[0] == fake_shape[0] and real[-1] == fake_shape[-1]  # role chunk, finish chunk
    assert set(real[1:-1]) == set(fake_shape[1:-1])  # content chunks
    assert ('", "' in real_text) and ('", "' in fake_text)  # Python's json.dumps spacing


async def test_fake_refuses_null_content_like_the_real_one(http: aiohttp.ClientSession, llm_server: LlmServer) -> None:
    for messages in ([*HELLO, {"role": "assistant", "content": None}, *HELLO],
                     [{"role": "user", "content": None}]):
        body = {"model": "m", "messages": messages, "max_tokens": 4}
        async with running_upstream_server("llama_cpp_python") as fake:
            fake_status, fake_text = await post(http, fake + "/chat/completions", body)
        real_status, real_text = await post(http, llm_server.base_url + "/chat/completions", body)
        real_error, fake_error = json.loads(real_text)["error"], json.loads(fake_text)["error"]
        assert real_status == fake_status == 500
        assert real_error["type"] == fake_error["type"] == "internal_server_error"
        # Same errors, line for line, up to the traceback's file path.
        real_lines, fake_lines = real_error["message"].split("\n"), fake_error["message"].split("\n")
        assert real_lines[:-2] == fake_lines[:-2] and real_lines[-1] == fake_lines[-1]
