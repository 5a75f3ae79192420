"""Upstream failures as OpenAI errors (never 500s of our own), and a gone client stops the upstream."""

from __future__ import annotations

import asyncio
import socket
import time

import openai
import pytest

from tests.fakes.upstream_server import running_upstream_server
from tests.fakes.upstream_shapes import Personality
from tests.server.sse_helpers import read_events
from tests.upstream.conftest import MakeBridge, StartUpstream, Upstream, user


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_for_outcome(upstream: Upstream, outcome: str, timeout_s: float = 10.0) -> list[str]:
    """Poll the fake's record until its last chat request has this outcome."""
    deadline = time.monotonic() + timeout_s
    while True:
        outcomes = [r.get("outcome") for r in await upstream.requests()]
        if outcomes and outcomes[-1] == outcome or time.monotonic() > deadline:
            return outcomes  # type: ignore[return-value]
        await asyncio.sleep(0.05)


async def test_refused_connection_is_503_and_health_says_why(make_bridge: MakeBridge) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    bridge = await make_bridge(BACKEND_URL=url, SERVICE="copilot,upstream")  # the server starts anyway
    for stream in (False, True):
        # The model list could not be fetched: the reason, rather than "no such model".
        with pytest.raises(openai.InternalServerError) as caught:
            await bridge.sdk.chat.completions.create(model="upstream/anything", messages=user("hi"), stream=stream)
        assert caught.value.status_code == 503 and caught.value.code == "upstream_unavailable"
        assert "cannot connect to the upstream at " + url in caught.value.message
    models = [m.id async for m in bridge.sdk.models.list()]
    assert "copilot/gpt-5.4" in models and not any(m.startswith("upstream/") for m in models)
    health = await (await bridge.client.get("/health")).json()
    assert health["status"] == "degraded" and health["backends"]["copilot"]["available"] is True
    upstream = health["backends"]["upstream"]
    assert upstream["available"] is False and upstream["url"] == url
    assert "cannot connect to the upstream" in upstream["reason"]


async def test_upstream_that_goes_down_after_discovery_is_503(start_upstream: StartUpstream,
                                                              make_bridge: MakeBridge) -> None:
    port = free_port()
    async with running_upstream_server("ollama", port=port) as base:
        bridge = await make_bridge(BACKEND_URL=base)
        ids = [m.id async for m in bridge.sdk.models.list()]
        assert ids[0] == "upstream/llama3.2:latest"
    for stream in (False, True):
        with pytest.raises(openai.InternalServerError) as caught:
            await bridge.sdk.chat.completions.create(model="upstream/llama3.2:latest", messages=user("hi"), stream=stream)
        assert caught.value.status_code == 503 and caught.value.code == "upstream_unavailable"
        assert f"127.0.0.1:{port}" in caught.value.message
    health = await bridge.client.get("/health")
    assert health.status == 503 and (await health.json())["status"] == "unavailable"
    # Back up: the next discovery finds it again.
    async with running_upstream_server("ollama", port=port):
        ids = [m.id async for m in bridge.sdk.models.list(extra_query={"refresh": "true"})]
        assert ids == ["upstream/llama3.2:latest", "upstream/qwen2.5-coder:7b"]
        answer = await bridge.sdk.chat.completions.create(model="llama3.2:latest", messages=user("hi"))
        assert answer.choices[0].message.content == "Hello from mock."
        assert (await bridge.client.get("/health")).status == 200


@pytest.mark.parametrize("stream", [False, True])
async def test_no_answer_within_backend_timeout_is_504(upstream: Upstream, make_bridge: MakeBridge, stream: bool) -> None:
    bridge = await make_bridge(upstream, BACKEND_TIMEOUT="400")
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        await bridge.sdk.chat.completions.create(model=upstream.model, messages=user("[[fake:fail=hang]]"), stream=stream)
    assert caught.value.status_code == 504 and caught.value.code == "upstream_timeout"
    assert time.monotonic() - started < 5
    assert (await wait_for_outcome(upstream, "cancelled"))[-1] == "cancelled"


async def test_a_stall_mid_stream_ends_at_the_request_deadline(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream, REQUEST_TIMEOUT="1500")
    response = await bridge.client.post("/v1/chat/completions", json={
        "model": upstream.model, "messages": user("[[fake:fail=stall]] [[fake:after=2]]"), "stream": True})
    events = await read_events(response)
    assert response.status == 200 and events[-1] == "[DONE]"
    assert events[-2]["error"]["code"] == "timeout" and "".join(
        e["choices"][0]["delta"].get("content") or "" for e in events[:-2]) == "Hello"
    assert (await wait_for_outcome(upstream, "cancelled"))[-1] == "cancelled"


@pytest.mark.parametrize(("personality", "message", "code"), [
    ("vllm", "Unauthorized", "upstream_error"),
    ("ollama", "unauthorized", "upstream_error"),
    ("llamacpp", "Invalid API Key", "upstream_error"),
    ("llama_cpp_python", "Invalid API key", "upstream_error"),
    ("lmstudio", "The provided LM Studio API token is invalid.", "invalid_api_key"),
])
async def test_upstream_errors_keep_their_status_and_message(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                             personality: Personality, message: str, code: str) -> None:
    # Bare-string `error`, FastAPI `detail`, nested `error` objects: all become OpenAI's shape.
    upstream = await start_upstream(personality, api_key="right")
    bridge = await make_bridge(upstream, BACKEND_API_KEY="wrong")
    for stream in (False, True):
        with pytest.raises(openai.AuthenticationError) as caught:
            await bridge.sdk.chat.completions.create(model=upstream.model, messages=user("hi"), stream=stream)
        body = caught.value.body
        assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}
        assert caught.value.status_code == 401 and body["message"] == message and body["code"] == code


@pytest.mark.parametrize(("status", "error"), [(429, openai.RateLimitError), (503, openai.InternalServerError),
                                               (404, openai.NotFoundError)])
async def test_scripted_statuses_pass_through(upstream: Upstream, make_bridge: MakeBridge, status: int,
                                              error: type[openai.APIStatusError]) -> None:
    bridge = await make_bridge(upstream)
    with pytest.raises(error) as caught:
        await bridge.sdk.chat.completions.create(model=upstream.model, messages=user(f"[[fake:status={status}]]"), stream=True)
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict) and caught.value.body["message"] == f"Fake error with status {status}."


@pytest.mark.parametrize("failure", ["malformed", "drop"])
async def test_a_broken_stream_ends_with_an_in_stream_error(upstream: Upstream, make_bridge: MakeBridge, failure: str) -> None:
    bridge = await make_bridge(upstream)
    response = await bridge.client.post("/v1/chat/completions", json={
        "model": upstream.model, "messages": user(f"[[fake:fail={failure}]] [[fake:after=2]]"), "stream": True})
    events = await read_events(response)
    assert response.status == 200 and events[-1] == "[DONE]"
    error = events[-2]["error"]
    assert error["code"] == "upstream_bad_response" and error["type"] == "server_error"
    assert ("malformed event" if failure == "malformed" else "closed the connection") in error["message"]
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-2]) == "Hello"
    # The SDK raises it as an APIError after the text that came before.
    stream = await bridge.sdk.chat.completions.create(
        model=upstream.model, messages=user(f"[[fake:fail={failure}]] [[fake:after=2]]"), stream=True)
    got: list[str] = []
    with pytest.raises(openai.APIError):
        async for chunk in stream:
            got.append(chunk.choices[0].delta.content or "")
    assert "".join(got) == "Hello"
    # Not streamed to the client: a 502.
    with pytest.raises(openai.APIStatusError) as caught:
        await bridge.sdk.chat.completions.create(model=upstream.model, messages=user(f"[[fake:fail={failure}]]"))
    assert caught.value.status_code == 502 and caught.value.code == "upstream_bad_response"


async def test_a_client_that_leaves_a_stream_closes_the_upstream_request(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream)
    response = await bridge.client.post("/v1/chat/completions", json={
        "model": upstream.model, "messages": user("[[fake:chunks=20]] [[fake:delay=0.3]]"), "stream": True})
    async for line in response.content:
        if b'"content":"' in line and b'"content":""' not in line:
            break
    response.close()
    assert (await wait_for_outcome(upstream, "cancelled"))[-1] == "cancelled"


async def test_a_client_that_leaves_a_whole_answer_closes_the_upstream_request(upstream: Upstream,
                                                                               make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream)
    request = asyncio.ensure_future(bridge.client.post("/v1/chat/completions", json={
        "model": upstream.model, "messages": user("[[fake:chunks=20]] [[fake:delay=0.3]]")}))
    assert (await wait_for_outcome(upstream, "running"))[-1] == "running"
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert (await wait_for_outcome(upstream, "cancelled"))[-1] == "cancelled"
