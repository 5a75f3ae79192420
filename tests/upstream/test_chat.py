"""Chat through the bridge to each fake model server, with the official openai SDK as the client."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion

from tests.fakes.upstream_shapes import PERSONALITIES, Personality
from tests.upstream.conftest import CALL, WEATHER, MakeBridge, StartUpstream, Upstream, user


async def streamed(sdk: AsyncOpenAI, **kwargs: Any) -> tuple[ChatCompletion, list[Any]]:
    """A streamed answer accumulated the SDK's own way, and its chunks."""
    stream = await sdk.chat.completions.create(stream=True, **kwargs)
    state = ChatCompletionStreamState()
    chunks = []
    async for chunk in stream:
        chunks.append(chunk)
        state.handle_chunk(chunk)
    return state.get_final_completion(), chunks


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_text_whole_and_streamed(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                       personality: Personality) -> None:
    upstream = await start_upstream(personality)
    sdk = (await make_bridge(upstream)).sdk
    whole = await sdk.chat.completions.create(model=upstream.model, messages=user("Say hi"))
    assert whole.choices[0].message.content == "Hello from mock."
    assert whole.choices[0].finish_reason == "stop" and whole.model == upstream.model
    stream = await sdk.chat.completions.create(model=upstream.model, messages=user("Say hi [[fake:chunks=4]]"),
                                               stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from mock."
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    (sent,) = [r["body"] for r in await upstream.requests() if "chunks=4" in json.dumps(r["body"])]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["model"] == upstream.model.removeprefix("upstream/")


async def test_chunks_are_forwarded_as_they_arrive(bridge: Any, upstream: Upstream) -> None:
    # 3 chunks 0.4 s apart: the first must reach the client long before the last is sent.
    stream = await bridge.sdk.chat.completions.create(
        model=upstream.model, messages=user("[[fake:delay=0.4]] [[fake:chunks=3]]"), stream=True)
    arrivals = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())
    assert len(arrivals) == 3
    assert arrivals[2] - arrivals[0] > 0.6


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_reasoning_reaches_the_client(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                            personality: Personality) -> None:
    upstream = await start_upstream(personality)
    sdk = (await make_bridge(upstream)).sdk
    messages = user("[[fake:reasoning=Let me think about it.]]")
    whole = await sdk.chat.completions.create(model=upstream.model, messages=messages)
    message = whole.choices[0].message
    assert message.content == "Hello from mock."
    assert getattr(message, "reasoning_content", None) == "Let me think about it."
    _, chunks = await streamed(sdk, model=upstream.model, messages=messages)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)
    assert reasoning == "Let me think about it."


def _id_matches(personality: Personality, call_id: str) -> bool:
    """Each server's own call-id format: the bridge passes the ids through untouched."""
    if personality == "lmstudio":
        return call_id.isdigit()
    if personality == "ollama":
        return call_id.startswith("call_") and len(call_id) == 13
    if personality == "vllm":
        return call_id.startswith("chatcmpl-tool-")
    if personality == "llamacpp":
        return len(call_id) == 32 and call_id.isalnum()
    return call_id.startswith("call__0_get_weather_cmpl-")


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_native_tool_calls_pass_through(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                              personality: Personality) -> None:
    upstream = await start_upstream(personality)
    sdk = (await make_bridge(upstream)).sdk
    whole = await sdk.chat.completions.create(model=upstream.model, messages=user(CALL), tools=WEATHER)  # type: ignore[arg-type]
    (call,) = whole.choices[0].message.tool_calls or []
    assert whole.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert _id_matches(personality, call.id), call.id
    final, chunks = await streamed(sdk, model=upstream.model, messages=user(CALL), tools=WEATHER)
    (call,) = final.choices[0].message.tool_calls or []
    # llama-cpp-python repeats id and name in every fragment; the client must see them once.
    assert call.function.name == "get_weather" and _id_matches(personality, call.id)
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"
    names = [tc.function.name for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []
             if tc.function and tc.function.name]
    assert names == ["get_weather"]


@pytest.mark.parametrize("stream", [False, True])
async def test_ollama_object_arguments_become_json_text(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                        stream: bool) -> None:
    upstream = await start_upstream("ollama", tool_args_as_object=True)
    sdk = (await make_bridge(upstream)).sdk
    messages = user('[[fake:tool_call=get_weather {"city": "Paris", "days": 3}]]')
    if stream:
        answer, _ = await streamed(sdk, model=upstream.model, messages=messages, tools=WEATHER)
    else:
        answer = await sdk.chat.completions.create(model=upstream.model, messages=messages, tools=WEATHER)  # type: ignore[arg-type]
    (call,) = answer.choices[0].message.tool_calls or []
    assert isinstance(call.function.arguments, str)
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 3}


async def test_parallel_native_calls(bridge: Any, upstream: Upstream) -> None:
    messages = user(CALL + ' [[fake:tool_call=get_weather {"city": "Oslo"}]]')
    answer, _ = await streamed(bridge.sdk, model=upstream.model, messages=messages, tools=WEATHER)
    calls = answer.choices[0].message.tool_calls or []
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Oslo"]
    assert len({c.id for c in calls}) == 2


@pytest.mark.parametrize("style", ["hermes", "bare", "fenced"])
@pytest.mark.parametrize("stream", [False, True])
async def test_markup_in_the_text_becomes_tool_calls(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                     style: str, stream: bool) -> None:
    upstream = await start_upstream("llama_cpp_python", tool_style=style)
    sdk = (await make_bridge(upstream)).sdk
    messages = user(CALL + " [[fake:chunks=9]]")
    if stream:
        answer, _ = await streamed(sdk, model=upstream.model, messages=messages, tools=WEATHER)
    else:
        answer = await sdk.chat.completions.create(model=upstream.model, messages=messages, tools=WEATHER)  # type: ignore[arg-type]
    choice = answer.choices[0]
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert choice.finish_reason == "tool_calls" and not (choice.message.content or "").strip()


async def test_glm_markup_is_recognised_without_configuration(bridge: Any, upstream: Upstream) -> None:
    glm = "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n</tool_call>"
    answer, _ = await streamed(bridge.sdk, model=upstream.model, tools=WEATHER,
                               messages=user(f"[[fake:reply={glm}]] [[fake:chunks=5]]"))
    (call,) = answer.choices[0].message.tool_calls or []
    assert json.loads(call.function.arguments) == {"city": "Paris"}


@pytest.mark.parametrize("stream", [False, True])
async def test_conversion_off_leaves_the_markup_as_text(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                        stream: bool) -> None:
    upstream = await start_upstream("vllm", tool_style="hermes")
    sdk = (await make_bridge(upstream, ENABLE_TOOL_CALL_CONVERSION="false")).sdk
    if stream:
        answer, _ = await streamed(sdk, model=upstream.model, messages=user(CALL), tools=WEATHER)
    else:
        answer = await sdk.chat.completions.create(model=upstream.model, messages=user(CALL), tools=WEATHER)  # type: ignore[arg-type]
    assert answer.choices[0].message.tool_calls is None and answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


@pytest.mark.parametrize("personality", ["vllm", "llama_cpp_python"])
async def test_usage_is_the_upstreams_or_estimated(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                   personality: Personality) -> None:
    # A 17-character reply: the fake counts 17 // 4 = 4 tokens, the bridge's estimate rounds up to 5.
    upstream = await start_upstream(personality)
    sdk = (await make_bridge(upstream)).sdk
    messages = user("[[fake:reply=Hello from mock!!]]")
    whole = await sdk.chat.completions.create(model=upstream.model, messages=messages)
    _, chunks = await streamed(sdk, model=upstream.model, messages=messages, stream_options={"include_usage": True})
    for usage in (whole.usage, chunks[-1].usage):
        assert usage is not None
        # llama-cpp-python never sends usage in a stream: the pipeline estimates it.
        assert usage.completion_tokens == (4 if personality == "vllm" else 5)


@pytest.mark.parametrize("stream", [False, True])
async def test_length_finish_reaches_the_client(bridge: Any, upstream: Upstream, stream: bool) -> None:
    messages = user("[[fake:finish=length]]")
    if not stream:
        answer = await bridge.sdk.chat.completions.create(model=upstream.model, messages=messages)
        assert answer.choices[0].finish_reason == "length" and answer.choices[0].message.content == "Hello from mock."
        return
    # (The SDK's stream accumulator refuses `length` answers, so the chunks are read as they come.)
    chunks = [c async for c in await bridge.sdk.chat.completions.create(model=upstream.model, messages=messages, stream=True)]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from mock."
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["length"]


async def test_parameters_pass_through_and_the_rest_is_reported(bridge: Any, upstream: Upstream) -> None:
    raw = await bridge.sdk.chat.completions.with_raw_response.create(
        model=upstream.model, messages=user("hi"), temperature=0.2, top_p=0.9, seed=7, stop=["\n\n"],
        max_completion_tokens=64, response_format={"type": "text"}, reasoning_effort="low",
        presence_penalty=0.1, logit_bias={"42": -100}, service_tier="auto", prompt_cache_key="k", n=1)
    # OpenAI's billing and caching hints mean nothing to a local server: reported, not sent.
    assert raw.headers["X-Bridge-Ignored-Params"] == "prompt_cache_key, service_tier"
    assert raw.parse().choices[0].message.content == "Hello from mock."
    (sent,) = [r["body"] for r in await upstream.requests()]
    passed = {k: sent.get(k) for k in ("temperature", "top_p", "seed", "stop", "reasoning_effort", "presence_penalty",
                                       "logit_bias", "max_tokens")}
    assert passed == {"temperature": 0.2, "top_p": 0.9, "seed": 7, "stop": ["\n\n"], "reasoning_effort": "low",
                      "presence_penalty": 0.1, "logit_bias": {"42": -100}, "max_tokens": 64}
    # Local servers all know max_tokens; older ones ignore max_completion_tokens.
    assert not {"max_completion_tokens", "n", "service_tier", "prompt_cache_key"} & set(sent)


async def test_what_one_answer_cannot_carry_is_refused(bridge: Any, upstream: Upstream) -> None:
    for params in ({"n": 2}, {"logprobs": True}):
        with pytest.raises(openai.BadRequestError) as caught:
            await bridge.sdk.chat.completions.create(model=upstream.model, messages=user("hi"), **params)
        assert caught.value.param == next(iter(params))
    assert await upstream.requests() == []


async def test_response_format_goes_to_the_server_and_the_answer_is_checked(bridge: Any, upstream: Upstream) -> None:
    answer = await bridge.sdk.chat.completions.create(
        model=upstream.model, messages=user('[[fake:reply={"ok": true}]]'), response_format={"type": "json_object"})
    assert json.loads(answer.choices[0].message.content or "") == {"ok": True}
    (sent,) = [r["body"] for r in await upstream.requests()]
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["messages"] == user('[[fake:reply={"ok": true}]]')  # no emulation: the server does it


async def test_conversation_is_sent_as_openai_clients_send_it(bridge: Any, upstream: Upstream) -> None:
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "22C " + CALL},
    ]
    await bridge.sdk.chat.completions.create(model=upstream.model, messages=messages, tools=WEATHER,
                                             tool_choice="required", parallel_tool_calls=False)
    (sent,) = [r["body"] for r in await upstream.requests()]
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "22C " + CALL},
    ]
    assert sent["tools"] == WEATHER and sent["tool_choice"] == "required" and sent["parallel_tool_calls"] is False


async def test_api_key_goes_upstream(start_upstream: StartUpstream, make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("lmstudio", api_key="sk-local")
    sdk = (await make_bridge(upstream, BACKEND_API_KEY="sk-local")).sdk
    answer = await sdk.chat.completions.create(model=upstream.model, messages=user("hi"))
    assert answer.choices[0].message.content == "Hello from mock."
    assert all(r["headers"]["Authorization"] == "Bearer sk-local" for r in await upstream.requests())


async def test_concurrent_streams_share_the_pool(bridge: Any, upstream: Upstream) -> None:
    async def one(i: int) -> str:
        answer, _ = await streamed(bridge.sdk, model=upstream.model,
                                   messages=user(f"[[fake:reply=answer {i}]] [[fake:delay=0.05]]"))
        return answer.choices[0].message.content or ""

    assert await asyncio.gather(*(one(i) for i in range(12))) == [f"answer {i}" for i in range(12)]
