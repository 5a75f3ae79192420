"""The fake upstream model server, through the official openai SDK and plain aiohttp."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import openai
import pytest
from openai import AsyncOpenAI

from tests.fakes.upstream_server import running_upstream_server
from tests.fakes.upstream_shapes import PERSONALITIES, Personality
from tests.upstream.conftest import CALL, MODEL_OF, WEATHER


def user(text: str | None) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


MakeSdk = Callable[..., AsyncOpenAI]


@pytest.fixture
async def sdk() -> AsyncIterator[MakeSdk]:
    """The official SDK for a base URL (no retries); every client is closed after the test."""
    clients: list[AsyncOpenAI] = []

    def make(base_url: str, api_key: str = "unused") -> AsyncOpenAI:
        clients.append(AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=10))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer, read and released."""

    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def sse_events(answer: Answer) -> list[str]:
    """The `data:` payloads of an SSE body, checking each event is `data: …` + blank line."""
    assert answer.text.endswith("\n\n")
    events = [block for block in answer.text.split("\n\n") if block]
    assert all(block.startswith(("data: ", ":")) for block in events)
    return [block.removeprefix("data: ") for block in events if not block.startswith(":")]


def message_of(body: dict[str, Any]) -> str:
    """The error text wherever the server put it: `error.message`, a bare `error`, or `detail`."""
    if "detail" in body:
        return json.dumps(body["detail"])
    error = body["error"]
    return error if isinstance(error, str) else str(error["message"])


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Answer:
    async with http.post(url, json=body) as response:
        return Answer(response.status, response.headers, await response.text())


async def get(http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None) -> Answer:
    async with http.get(url, headers=headers) as response:
        return Answer(response.status, response.headers, await response.text())


# ---------------------------------------------------------------------------- models


async def test_models_have_each_servers_shape(http: aiohttp.ClientSession, sdk: MakeSdk) -> None:
    shapes: dict[str, dict[str, Any]] = {}
    for personality in PERSONALITIES:
        async with running_upstream_server(personality, max_model_len=4096) as url:
            shapes[personality] = (await get(http, url + "/models")).json()
            listed = [m.id async for m in sdk(url).models.list()]
            assert listed == [m["id"] for m in shapes[personality]["data"]]
    assert shapes["lmstudio"]["data"][0] == {"id": "qwen2.5-7b-instruct", "object": "model",
                                             "owned_by": "organization_owner"}
    assert [m["owned_by"] for m in shapes["ollama"]["data"]] == ["library", "library"]
    assert isinstance(shapes["ollama"]["data"][0]["created"], int)
    vllm = shapes["vllm"]["data"][0]
    assert (vllm["owned_by"], vllm["max_model_len"], vllm["root"]) == ("vllm", 4096, vllm["id"])
    llamacpp = shapes["llamacpp"]
    assert llamacpp["data"][0]["owned_by"] == "llamacpp"
    assert llamacpp["data"][0]["meta"]["n_ctx"] == 4096 and llamacpp["models"][0]["model"] == llamacpp["data"][0]["id"]
    assert shapes["llama_cpp_python"]["data"][0] == {"id": "qwen2.5-coder-0.5b", "object": "model",
                                                     "owned_by": "me", "permissions": []}


async def test_ollama_owner_is_the_models_namespace(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("ollama", models=["hf.co/bartowski/Qwen3:Q4_K_M", "mistral"]) as url:
        data = ((await get(http, url + "/models")).json())["data"]
    assert [m["owned_by"] for m in data] == ["bartowski", "library"]


# ---------------------------------------------------------------------------- chat


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_chat_whole_and_streamed_through_the_sdk(personality: Personality, sdk: MakeSdk) -> None:
    model = MODEL_OF[personality]
    async with running_upstream_server(personality) as url:
        client = sdk(url)
        whole = await client.chat.completions.create(model=model, messages=user("[[fake:reply=Hi there you]]"))
        assert whole.choices[0].message.content == "Hi there you"
        assert whole.choices[0].finish_reason == "stop" and whole.usage is not None
        stream = await client.chat.completions.create(
            model=model, messages=user("[[fake:reply=Hi there you]]"), stream=True,
            stream_options={"include_usage": True})
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hi there you"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage_chunks = [c for c in chunks if not c.choices]
    # llama-cpp-python ignores stream_options.include_usage (measured); the others send it.
    assert len(usage_chunks) == (0 if personality == "llama_cpp_python" else 1)


async def test_first_deltas_and_json_spacing_match_each_server(http: aiohttp.ClientSession) -> None:
    first: dict[str, Any] = {}
    raw: dict[str, str] = {}
    for personality in PERSONALITIES:
        async with running_upstream_server(personality, check_model=False) as url:
            response = await post(http, url + "/chat/completions",
                                  {"model": "m", "messages": user("[[fake:reply=a b]]"), "stream": True})
            assert response.headers["Content-Type"].startswith("text/event-stream")
            events = sse_events(response)
        assert events[-1] == "[DONE]"
        raw[personality] = events[0]
        first[personality] = [json.loads(e)["choices"][0]["delta"] for e in events[:-1]]
    assert first["vllm"][0] == {"role": "assistant", "content": ""}
    assert first["llamacpp"][0] == {"role": "assistant", "content": None}
    assert first["llama_cpp_python"][0] == {"role": "assistant"}
    assert first["ollama"][0] == {"role": "assistant", "content": "a"}  # role rides on the first text
    assert all(d.get("role") == "assistant" for d in first["lmstudio"][:-1])  # on every delta
    assert all(deltas[-1] == {} for deltas in first.values())
    assert '", "' in raw["llama_cpp_python"] and '", "' not in raw["vllm"]


@pytest.mark.parametrize(("personality", "field"), [("vllm", "reasoning_content"), ("llamacpp", "reasoning_content"),
                                                    ("ollama", "reasoning"), ("lmstudio", "reasoning")])
async def test_reasoning_comes_in_the_servers_field(http: aiohttp.ClientSession, personality: Personality,
                                                    field: str) -> None:
    text = "[[fake:reasoning=Let me think]][[fake:reply=Done]]"
    async with running_upstream_server(personality, check_model=False) as url:
        whole = (await post(http, url + "/chat/completions", {"model": "m", "messages": user(text)})).json()
        events = sse_events(await post(http, url + "/chat/completions",
                                             {"model": "m", "messages": user(text), "stream": True}))
    assert whole["choices"][0]["message"][field] == "Let me think"
    assert whole["choices"][0]["message"]["content"] == "Done"
    deltas = [json.loads(e)["choices"][0]["delta"] for e in events[:-1]]
    assert "".join(d.get(field, "") for d in deltas) == "Let me think"
    assert "".join(d.get("content") or "" for d in deltas) == "Done"


async def test_reasoning_field_switch_overrides_the_personality(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("vllm", check_model=False, reasoning_field="reasoning") as url:
        body = {"model": "m", "messages": user("[[fake:reasoning=hmm]]")}
        message = ((await post(http, url + "/chat/completions", body)).json())["choices"][0]["message"]
    assert message["reasoning"] == "hmm" and "reasoning_content" not in message


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_native_tool_calls_stream_as_argument_fragments_or_whole(http: aiohttp.ClientSession, personality: Personality, sdk: MakeSdk) -> None:
    async with running_upstream_server(personality, check_model=False) as url:
        body = {"model": "m", "messages": user(CALL), "tools": WEATHER, "stream": True}
        events = sse_events(await post(http, url + "/chat/completions", body))
        stream = await sdk(url).chat.completions.create(model="m", messages=user(CALL), tools=WEATHER, stream=True)
        sdk_chunks = [c async for c in stream]
        whole = await sdk(url).chat.completions.create(model="m", messages=user(CALL), tools=WEATHER)
    tool_deltas = [d for e in events[:-1] for d in json.loads(e)["choices"][0]["delta"].get("tool_calls") or []]
    arguments = [d["function"]["arguments"] for d in tool_deltas if "arguments" in d.get("function", {})]
    assert json.loads("".join(arguments)) == {"city": "Paris"}
    if personality == "ollama":
        assert len(tool_deltas) == 1  # Ollama sends each call whole, in one chunk
    else:
        assert len([a for a in arguments if a]) >= 2
    ids = {d["id"] for d in tool_deltas if "id" in d}
    assert len(ids) == 1
    assert [c.choices[0].finish_reason for c in sdk_chunks if c.choices][-1] == "tool_calls"
    call = whole.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert whole.choices[0].finish_reason == "tool_calls"


async def test_two_tool_calls_get_two_indexes(http: aiohttp.ClientSession) -> None:
    text = CALL + '[[fake:tool_call=get_time {"zone": "CET"}]]'
    async with running_upstream_server("vllm", check_model=False) as url:
        whole = (await post(http, url + "/chat/completions", {"model": "m", "messages": user(text)})).json()
        events = sse_events(await post(http, url + "/chat/completions",
                                             {"model": "m", "messages": user(text), "stream": True}))
    assert [c["function"]["name"] for c in whole["choices"][0]["message"]["tool_calls"]] == ["get_weather", "get_time"]
    indexes = {d["index"] for e in events[:-1] for d in json.loads(e)["choices"][0]["delta"].get("tool_calls") or []}
    assert indexes == {0, 1}


@pytest.mark.parametrize(("style", "expected"), [
    ("hermes", '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'),
    ("bare", '{"name": "get_weather", "arguments": {"city": "Paris"}}'),
    ("fenced", '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```'),
])
async def test_tool_calls_written_as_text_markup(style: str, expected: str, sdk: MakeSdk) -> None:
    async with running_upstream_server("llamacpp") as url:
        reply = await sdk(url).chat.completions.create(
            model="x", messages=user(CALL + f"[[fake:tool_style={style}]]"), tools=WEATHER)
        switched = running_upstream_server("llamacpp", tool_style=style)
    async with switched as other:
        by_switch = await sdk(other).chat.completions.create(model="x", messages=user(CALL), tools=WEATHER)
    for answer in (reply, by_switch):
        assert answer.choices[0].message.content == expected
        assert answer.choices[0].message.tool_calls is None and answer.choices[0].finish_reason == "stop"


async def test_ollama_native_style_arguments_as_an_object(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("ollama", tool_args_as_object=True, check_model=False) as url:
        whole = (await post(http, url + "/chat/completions", {"model": "m", "messages": user(CALL)})).json()
        events = sse_events(await post(http, url + "/chat/completions",
                                             {"model": "m", "messages": user(CALL), "stream": True}))
    assert whole["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}
    streamed = [d for e in events[:-1] for d in json.loads(e)["choices"][0]["delta"].get("tool_calls") or []]
    assert streamed[0]["function"]["arguments"] == {"city": "Paris"}
    async with running_upstream_server("vllm", check_model=False) as url:
        body = {"model": "m", "messages": user(CALL + "[[fake:args_object=1]]")}
        per_request = (await post(http, url + "/chat/completions", body)).json()
    assert per_request["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}


# ---------------------------------------------------------------------------- completions, embeddings


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_text_completions_whole_and_streamed(personality: Personality, sdk: MakeSdk) -> None:
    async with running_upstream_server(personality, check_model=False) as url:
        client = sdk(url)
        whole = await client.completions.create(model="m", prompt="def f(): [[fake:reply=return 1]]")
        stream = await client.completions.create(model="m", prompt="[[fake:reply=return 1]]", stream=True)
        pieces = [c async for c in stream]
    assert whole.choices[0].text == "return 1" and whole.object == "text_completion"
    assert "".join(c.choices[0].text for c in pieces if c.choices) == "return 1"
    assert pieces[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("personality", ["vllm", "ollama", "lmstudio", "llamacpp"])
async def test_embeddings_one_vector_per_input(personality: Personality, sdk: MakeSdk) -> None:
    async with running_upstream_server(personality, check_model=False, embedding_dim=16) as url:
        client = sdk(url)
        result = await client.embeddings.create(model="m", input=["alpha", "beta", "alpha"])  # base64
        floats = await client.embeddings.create(model="m", input="alpha", encoding_format="float")
    vectors = [item.embedding for item in result.data]
    assert [len(v) for v in vectors] == [16, 16, 16]
    assert vectors[0] == pytest.approx(vectors[2]) and vectors[0] != pytest.approx(vectors[1])
    assert floats.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)
    assert sum(x * x for x in vectors[0]) == pytest.approx(1.0, abs=1e-5)


async def test_llama_cpp_python_embeddings_are_per_token_nested_lists(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("llama_cpp_python", embedding_dim=4) as url:
        body = (await post(http, url + "/embeddings", {"model": "m", "input": ["one two three", "four"],
                                                             "encoding_format": "base64"})).json()
        async with running_upstream_server("vllm", check_model=False, embeddings_mode="per_token") as other:
            switched = (await post(http, other + "/embeddings", {"model": "m", "input": "a b"})).json()
    assert [len(item["embedding"]) for item in body["data"]] == [3, 1]
    assert all(len(vec) == 4 for vec in body["data"][0]["embedding"])
    assert len(switched["data"][0]["embedding"]) == 2


async def test_embeddings_off_answers_each_servers_error(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("llamacpp", embeddings_mode="off") as url:
        response = await post(http, url + "/embeddings", {"model": "m", "input": "x"})
        assert response.status == 501
        assert "Start it with `--embeddings`" in (response.json())["error"]["message"]
    async with running_upstream_server("llama_cpp_python", embeddings_mode="off") as url:
        response = await post(http, url + "/embeddings", {"model": "m", "input": "x"})
        assert response.status == 500
        assert (response.json())["error"]["type"] == "internal_server_error"


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(("personality", "status", "words"), [
    ("vllm", 400, '"auto" tool choice requires --enable-auto-tool-choice'),
    ("ollama", 400, "registry.ollama.ai/library/llama3.2:latest does not support tools"),
    ("llamacpp", 500, "tools param requires --jinja flag"),
    ("lmstudio", 400, 'Error rendering prompt with jinja template: "Unknown test: sequence".'),
    ("vllm", 422, "Extra inputs are not permitted"),
])
async def test_tools_refused_with_the_servers_status_and_words(http: aiohttp.ClientSession, personality: Personality,
                                                               status: int, words: str, sdk: MakeSdk) -> None:
    model = MODEL_OF[personality]
    async with running_upstream_server(personality, reject_tools=status) as url:
        refused = await post(http, url + "/chat/completions", {"model": model, "messages": user("hi"), "tools": WEATHER})
        plain = await post(http, url + "/chat/completions", {"model": model, "messages": user("hi")})
        with pytest.raises(openai.APIStatusError) as caught:
            await sdk(url).chat.completions.create(model=model, messages=user("hi"), tools=WEATHER)
    assert refused.status == status and words in message_of(refused.json())
    assert plain.status == 200 and caught.value.status_code == status


async def test_functions_and_tool_history_refusals(http: aiohttp.ClientSession) -> None:
    functions = [WEATHER[0]["function"]]
    history = [*user("weather?"),
               {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{}"}}]},
               {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]
    async with running_upstream_server("vllm", check_model=False, reject_functions=400,
                                       reject_tool_history=True) as url:
        refused = await post(http, url + "/chat/completions", {"model": "m", "messages": user("x"), "functions": functions})
        assert refused.status == 400
        assert "Unrecognized request argument supplied: functions" in refused.text
        history_refused = await post(http, url + "/chat/completions", {"model": "m", "messages": history})
        assert history_refused.status == 400
        assert "Conversation roles must alternate" in (history_refused.json())["error"]["message"]
    async with running_upstream_server("lmstudio", check_model=False, reject_tool_history=True) as url:
        refused = await post(http, url + "/chat/completions", {"model": "m", "messages": history})
        assert refused.status == 400
        assert refused.json() == {
            "error": 'Error rendering prompt with jinja template: "Only user and assistant roles are supported!".'}


async def test_empty_content_refusals(http: aiohttp.ClientSession) -> None:
    null_assistant = [*user("a"), {"role": "assistant", "content": None}, *user("b")]
    empty = [*user("a"), {"role": "assistant", "content": ""}, *user("b")]
    async with running_upstream_server("llama_cpp_python") as url:
        refused = await post(http, url + "/chat/completions", {"model": "m", "messages": null_assistant})
        accepted = await post(http, url + "/chat/completions", {"model": "m", "messages": empty})
        user_null = await post(http, url + "/chat/completions", {"model": "m", "messages": user(None)})
        assert refused.status == 500 and accepted.status == 200 and user_null.status == 500
        error = refused.json()["error"]
        assert error["type"] == "internal_server_error" and error["message"].startswith("7 validation errors:\n")
        assert "'loc': ('body', 'messages', 1, 'ChatCompletionRequestAssistantMessage', 'content')" in error["message"]
        assert user_null.json()["error"]["message"] == 'can only concatenate str (not "NoneType") to str'
    async with running_upstream_server("vllm", check_model=False, empty_content="reject_empty") as url:
        refused = await post(http, url + "/chat/completions", {"model": "m", "messages": empty})
        assert refused.status == 400 and "messages[1]" in refused.text


async def test_max_tokens_above_the_limit_gets_vllms_400(sdk: MakeSdk) -> None:
    async with running_upstream_server("vllm", check_model=False, max_model_len=1000) as url:
        client = sdk(url)
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="m", messages=user("x" * 400), max_tokens=950)
        ok = await client.chat.completions.create(model="m", messages=user("x" * 400), max_tokens=800)
        with pytest.raises(openai.BadRequestError) as newer:
            await client.chat.completions.create(model="m", messages=user("x"), max_completion_tokens=5000)
    message = caught.value.body["message"]  # type: ignore[index]
    assert message.startswith("'max_tokens' or 'max_completion_tokens' is too large: 950. ")
    assert "maximum context length is 1000 tokens and your request has 100 input tokens (950 > 1000 - 100)" in message
    assert ok.choices[0].finish_reason == "stop"
    assert "too large: 5000" in newer.value.body["message"]  # type: ignore[index]


@pytest.mark.parametrize(("personality", "status", "body"), [
    ("vllm", 401, {"error": "Unauthorized"}),
    ("llamacpp", 401, {"error": {"message": "Invalid API Key", "type": "authentication_error", "code": 401}}),
    ("llama_cpp_python", 401, {"detail": "Invalid API key"}),
])
async def test_wrong_api_key_is_a_401(http: aiohttp.ClientSession, personality: Personality, status: int,
                                      body: dict[str, Any], sdk: MakeSdk) -> None:
    async with running_upstream_server(personality, api_key="right", check_model=False) as url:
        missing = await get(http, url + "/models")
        wrong = await get(http, url + "/models", {"Authorization": "Bearer wrong"})
        right = await get(http, url + "/models", {"Authorization": "Bearer right"})
        with pytest.raises(openai.AuthenticationError):
            await sdk(url, "wrong").chat.completions.create(model="m", messages=user("hi"))
        assert (await sdk(url, "right").chat.completions.create(model="m", messages=user("hi"))).choices
        recorded = await get(http, url.removesuffix("/v1") + "/_fake/requests")  # never behind the key
    assert (missing.status, wrong.status, right.status) == (status, status, 200)
    assert wrong.json() == body
    assert recorded.status == 200


@pytest.mark.parametrize(("personality", "status"), [("vllm", 404), ("ollama", 404), ("lmstudio", 404),
                                                     ("llamacpp", 400), ("llama_cpp_python", 400)])
async def test_unknown_model(http: aiohttp.ClientSession, personality: Personality, status: int) -> None:
    async with running_upstream_server(personality) as url:
        loose = await post(http, url + "/chat/completions", {"model": "nope", "messages": user("hi")})
    async with running_upstream_server(personality, check_model=True) as url:
        strict = await post(http, url + "/chat/completions", {"model": "nope", "messages": user("hi")})
    # llama.cpp and llama-cpp-python serve any name, like the real single-model servers.
    assert loose.status == (200 if personality in ("llamacpp", "llama_cpp_python") else status)
    assert strict.status == status and "nope" in strict.text


async def test_status_directive_uses_the_personality_envelope(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("ollama", check_model=False) as url:
        response = await post(http, url + "/chat/completions", {"model": "m", "messages": user("[[fake:status=503]]")})
    assert response.status == 503
    assert response.json() == {"error": {"message": "Fake error with status 503.", "type": "api_error",
                                                "param": None, "code": None}}


# ---------------------------------------------------------------------------- broken transports


async def test_malformed_sse_mid_stream(http: aiohttp.ClientSession, sdk: MakeSdk) -> None:
    async with running_upstream_server("vllm", check_model=False) as url:
        body = {"model": "m", "messages": user("[[fake:fail=malformed]][[fake:after=2]]"), "stream": True}
        events = sse_events(await post(http, url + "/chat/completions", body))
        with pytest.raises(json.JSONDecodeError):
            stream = await sdk(url).chat.completions.create(model="m", messages=body["messages"], stream=True)
            _ = [c async for c in stream]
    assert [json.loads(e)["object"] for e in events[:2]] == ["chat.completion.chunk"] * 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[2])
    assert events[3:] == ["[DONE]"]


async def test_connection_dropped_mid_stream(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("llamacpp") as url:
        body = {"model": "m", "messages": user("[[fake:fail=drop]][[fake:after=2]]"), "stream": True}
        received = b""
        async with http.post(url + "/chat/completions", json=body) as response:
            with pytest.raises(aiohttp.ClientPayloadError):
                async for piece in response.content.iter_any():
                    received += piece
        assert received.count(b"data: ") == 2 and b"[DONE]" not in received
        assert (await post(http, url + "/chat/completions", {"model": "m", "messages": user("hi")})).status == 200
        body["stream"] = False
        with pytest.raises(aiohttp.ClientError):  # no status line at all
            await post(http, url + "/chat/completions", body)


async def test_hang_and_stall_time_out_and_the_server_stays_usable(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("ollama", check_model=False) as url:
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            async with http.post(url + "/chat/completions", json={"model": "m", "messages": user("[[fake:fail=hang]]")},
                                 timeout=aiohttp.ClientTimeout(total=0.5)):
                pass
        body = {"model": "m", "messages": user("[[fake:fail=stall]]"), "stream": True}
        async with http.post(url + "/chat/completions", json=body) as stalled:
            first = await asyncio.wait_for(stalled.content.readuntil(b"\n\n"), 5)
            assert first.startswith(b"data: {")
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(stalled.content.readuntil(b"\n\n"), 0.5)
            stalled.close()
        assert (await post(http, url + "/chat/completions", {"model": "m", "messages": user("hi")})).status == 200
    assert time.monotonic() - started < 5  # shutting down does not wait for hung handlers


async def test_slow_first_byte(http: aiohttp.ClientSession) -> None:
    async with running_upstream_server("lmstudio", check_model=False) as url:
        started = time.monotonic()
        response = await post(http, url + "/chat/completions",
                              {"model": "m", "messages": user("[[fake:first_byte=0.6]]"), "stream": True})
        waited = time.monotonic() - started
        events = sse_events(response)
    assert waited >= 0.55 and events[-1] == "[DONE]"


async def test_ping_comment_is_skipped_by_the_sdk(http: aiohttp.ClientSession, sdk: MakeSdk) -> None:
    async with running_upstream_server("llama_cpp_python") as url:
        body = {"model": "m", "messages": user("[[fake:ping=1]][[fake:reply=pong]]"), "stream": True}
        text = (await post(http, url + "/chat/completions", body)).text
        stream = await sdk(url).chat.completions.create(model="m", messages=body["messages"], stream=True)
        content = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert "\n\n: ping - " in text and content == "pong"


# ---------------------------------------------------------------------------- recording


async def test_every_request_is_recorded_and_can_be_cleared(http: aiohttp.ClientSession, sdk: MakeSdk) -> None:
    async with running_upstream_server("vllm", check_model=False, api_key="k") as url:
        await sdk(url, "k").chat.completions.create(model="m", messages=user("hello"), temperature=0.2)
        await get(http, url + "/models")  # refused (no key) but still recorded
        root = url.removesuffix("/v1")
        records = (await get(http, root + "/_fake/requests")).json()
        async with http.delete(root + "/_fake/requests") as cleared:
            assert cleared.status == 200
        after = (await get(http, root + "/_fake/requests")).json()
    assert [(r["method"], r["path"]) for r in records] == [("POST", "/v1/chat/completions"), ("GET", "/v1/models")]
    assert records[0]["headers"]["Authorization"] == "Bearer k"
    assert records[0]["body"]["temperature"] == 0.2 and records[0]["body"]["messages"] == user("hello")
    assert after == []
