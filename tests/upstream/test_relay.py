"""POST /v1/completions and /v1/embeddings relayed to upstream models; a clear error for CLI models."""

from __future__ import annotations

import asyncio
import math

import openai
import pytest

from tests.fakes.upstream_chat import vector
from tests.fakes.upstream_shapes import PERSONALITIES, Personality
from tests.server.sse_helpers import read_events
from tests.upstream.conftest import MakeBridge, StartUpstream, Upstream


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_completions_whole_and_streamed(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                              personality: Personality) -> None:
    upstream = await start_upstream(personality)
    bridge = await make_bridge(upstream)
    raw = await bridge.sdk.completions.with_raw_response.create(model=upstream.model, prompt="def add(a, b):",
                                                                max_tokens=12, temperature=0)
    whole = raw.parse()
    assert raw.headers["X-Bridge-Backend"] == "upstream"
    assert whole.object == "text_completion" and whole.model == upstream.model
    assert whole.choices[0].text == "Hello from mock." and whole.choices[0].finish_reason == "stop"
    stream = await bridge.sdk.completions.create(model=upstream.model, prompt="x [[fake:chunks=4]]", stream=True,
                                                 stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Hello from mock."
    assert {c.model for c in chunks} == {upstream.model}
    assert (chunks[-1].usage is not None) == (personality != "llama_cpp_python")  # what the server sends, as is
    sent = [r["body"] for r in await upstream.requests("/v1/completions")]
    assert [b["model"] for b in sent] == [upstream.model.removeprefix("upstream/")] * 2
    assert sent[0]["max_tokens"] == 12 and sent[0]["temperature"] == 0 and sent[1]["stream"] is True


async def test_streamed_completion_arrives_chunk_by_chunk(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream)
    stream = await bridge.sdk.completions.create(model=upstream.model, prompt="[[fake:delay=0.4]] [[fake:chunks=3]]",
                                                 stream=True)
    arrivals = [asyncio.get_running_loop().time() async for c in stream if c.choices and c.choices[0].text]
    assert len(arrivals) == 3 and arrivals[2] - arrivals[0] > 0.6


@pytest.mark.parametrize("personality", ["vllm", "ollama", "lmstudio", "llamacpp"])
async def test_embeddings_through_the_sdk(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                          personality: Personality) -> None:
    upstream = await start_upstream(personality, embedding_dim=16)
    bridge = await make_bridge(upstream)
    # The SDK asks for base64 and decodes it; the vectors are the fake's, unchanged.
    answer = await bridge.sdk.embeddings.create(model=upstream.model, input=["hello world", "bye"])
    assert answer.model == upstream.model and [d.index for d in answer.data] == [0, 1]
    for item, text in zip(answer.data, ["hello world", "bye"], strict=True):
        assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(item.embedding, vector(text, 16), strict=True))
    assert answer.usage.prompt_tokens == 3
    floats = await bridge.sdk.embeddings.create(model=upstream.model, input="bye", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(vector("bye", 16))


async def test_per_token_embeddings_become_one_vector_per_input(start_upstream: StartUpstream,
                                                                make_bridge: MakeBridge) -> None:
    # llama-cpp-python answers one vector per token for models without pooling: the bridge pools
    # them (mean, unit length) so the client gets OpenAI's one vector per input.
    upstream = await start_upstream("llama_cpp_python")
    bridge = await make_bridge(upstream)
    answer = await bridge.sdk.embeddings.create(model=upstream.model, input=["a b", "c"])
    mean = [(x + y) / 2 for x, y in zip(vector("a", 8), vector("b", 8), strict=True)]
    norm = math.sqrt(sum(x * x for x in mean))
    assert answer.data[0].embedding == pytest.approx([x / norm for x in mean])
    assert answer.data[1].embedding == pytest.approx(vector("c", 8))


async def test_cli_models_get_a_clear_error(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream, SERVICE="copilot,upstream")
    with pytest.raises(openai.NotFoundError) as caught:
        await bridge.sdk.completions.create(model="copilot/gpt-5.4", prompt="hi")
    assert caught.value.code == "unsupported_endpoint" and isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "model" and "only answers /v1/chat/completions" in caught.value.body["message"]
    with pytest.raises(openai.NotFoundError) as caught:
        await bridge.sdk.embeddings.create(model="gpt-5.4", input="hi")
    assert caught.value.code == "unsupported_endpoint"
    assert await upstream.requests("/v1/completions") == [] and await upstream.requests("/v1/embeddings") == []
    # A bare upstream id still finds its model.
    whole = await bridge.sdk.completions.create(model="Qwen/Qwen2.5-7B-Instruct", prompt="hi")
    assert whole.model == upstream.model


async def test_upstream_errors_keep_their_status(start_upstream: StartUpstream, make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("llamacpp", embeddings_mode="off")
    bridge = await make_bridge(upstream)
    with pytest.raises(openai.APIStatusError) as caught:
        await bridge.sdk.embeddings.create(model=upstream.model, input="hi")
    assert caught.value.status_code == 501 and isinstance(caught.value.body, dict)
    assert caught.value.body["message"] == "This server does not support embeddings. Start it with `--embeddings`"
    for stream in (False, True):
        with pytest.raises(openai.RateLimitError):
            await bridge.sdk.completions.create(model=upstream.model, prompt="[[fake:status=429]]", stream=stream)
    response = await bridge.client.post("/v1/completions", json={"model": "upstream/nope", "prompt": "x"})
    assert response.status == 404 and (await response.json())["error"]["code"] == "model_not_found"
    response = await bridge.client.post("/v1/completions", json=["not", "an", "object"])
    assert response.status == 400 and (await response.json())["error"]["code"] == "invalid_body"


async def test_a_broken_completion_stream_ends_with_an_in_stream_error(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream)
    response = await bridge.client.post("/v1/completions", json={
        "model": upstream.model, "prompt": "[[fake:fail=malformed]] [[fake:after=2]]", "stream": True})
    events = await read_events(response)
    assert response.status == 200 and events[-1] == "[DONE]"
    assert events[-2]["error"]["code"] == "upstream_bad_response"
    assert [e["choices"][0]["text"] for e in events[:-2]] == ["Hello", " from"]


async def test_a_client_that_leaves_closes_the_upstream_completion(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream)
    response = await bridge.client.post("/v1/completions", json={
        "model": upstream.model, "prompt": "[[fake:chunks=20]] [[fake:delay=0.3]]", "stream": True})
    await response.content.readline()
    response.close()
    deadline = asyncio.get_running_loop().time() + 10
    while (await upstream.requests("/v1/completions"))[-1]["outcome"] != "cancelled":
        assert asyncio.get_running_loop().time() < deadline, "the upstream request was not closed"
        await asyncio.sleep(0.05)
