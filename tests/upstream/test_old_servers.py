"""Servers older or looser than the fake's personalities: no streaming, no [DONE], odd error bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.server.sse_helpers import read_events
from tests.upstream.conftest import WEATHER, MakeBridge, user

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WHOLE = {"id": "x", "object": "chat.completion", "created": 1, "model": "old", "choices": [{
    "index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}]}}],
    "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}


async def answer_whole(request: web.Request) -> web.Response:
    return web.json_response(WHOLE)


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "old",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serve one chat handler (and a one-model list) on a free port; yields its /v1 base URL."""
    servers: list[TestServer] = []

    async def start(chat: Handler, completions: Handler | None = None) -> str:
        async def models(request: web.Request) -> web.Response:
            return web.json_response({"object": "list", "data": [{"id": "old", "object": "model"}]})

        app = web.Application()
        app.router.add_get("/v1/models", models)
        app.router.add_post("/v1/chat/completions", chat)
        if completions is not None:
            app.router.add_post("/v1/completions", completions)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/v1"))

    yield start
    for server in servers:
        await server.close()


async def test_a_server_that_ignores_stream_answers_whole(serve: Any, make_bridge: MakeBridge) -> None:
    async def chat(request: web.Request) -> web.Response:
        return web.json_response(WHOLE)

    bridge = await make_bridge(BACKEND_URL=await serve(chat))
    whole = await bridge.sdk.chat.completions.create(model="upstream/old", messages=user("hi"), tools=WEATHER)  # type: ignore[arg-type]
    (call,) = whole.choices[0].message.tool_calls or []
    assert (call.id, call.function.arguments, whole.choices[0].finish_reason) == ("call_9", '{"city": "Rome"}', "tool_calls")
    assert whole.usage is not None and whole.usage.prompt_tokens == 11
    stream = await bridge.sdk.chat.completions.create(model="upstream/old", messages=user("hi"), tools=WEATHER, stream=True)  # type: ignore[arg-type]
    calls = [tc for c in [c async for c in stream] for tc in (c.choices[0].delta.tool_calls or []) if c.choices]
    assert calls[0].id == "call_9" and "".join(tc.function.arguments or "" for tc in calls if tc.function) == '{"city": "Rome"}'


async def test_a_relayed_stream_from_a_server_that_ignores_stream(serve: Any, make_bridge: MakeBridge) -> None:
    async def completions(request: web.Request) -> web.Response:
        return web.json_response({"id": "c", "object": "text_completion", "created": 1, "model": "old",
                                  "choices": [{"index": 0, "text": "def f(): pass", "logprobs": None, "finish_reason": "stop"}]})

    bridge = await make_bridge(BACKEND_URL=await serve(answer_whole, completions))
    stream = await bridge.sdk.completions.create(model="upstream/old", prompt="def", stream=True)
    chunks = [c async for c in stream]
    assert [(c.model, c.choices[0].text) for c in chunks] == [("upstream/old", "def f(): pass")]


async def test_a_stream_without_done_is_fine_once_the_answer_finished(serve: Any, make_bridge: MakeBridge) -> None:
    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        body = await request.json()
        await response.write(chunk({"role": "assistant", "content": "Hi"}))
        if "finish" in json.dumps(body["messages"]):
            await response.write(chunk({}, "stop"))
        await response.write_eof()
        return response

    bridge = await make_bridge(BACKEND_URL=await serve(chat))
    answer = await bridge.sdk.chat.completions.create(model="upstream/old", messages=user("finish"))
    assert answer.choices[0].message.content == "Hi" and answer.choices[0].finish_reason == "stop"
    response = await bridge.client.post("/v1/chat/completions", json={
        "model": "upstream/old", "messages": user("cut"), "stream": True})
    events = await read_events(response)
    assert events[-2]["error"]["message"] == "the upstream's stream ended before the answer finished"


async def test_plain_text_and_html_errors_become_openai_errors(serve: Any, make_bridge: MakeBridge) -> None:
    async def chat(request: web.Request) -> web.Response:
        if "html" in json.dumps(await request.json()):
            return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        return web.Response(status=400, text="prompt is too long")

    bridge = await make_bridge(BACKEND_URL=await serve(chat))
    with pytest.raises(openai.BadRequestError) as bad:
        await bridge.sdk.chat.completions.create(model="upstream/old", messages=user("x"))
    assert isinstance(bad.value.body, dict) and bad.value.body["message"] == "prompt is too long"
    assert bad.value.body["code"] == "upstream_error" and bad.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.APIStatusError) as gateway:
        await bridge.sdk.chat.completions.create(model="upstream/old", messages=user("html"), stream=True)
    assert gateway.value.status_code == 502 and isinstance(gateway.value.body, dict)
    assert gateway.value.body["message"] == "<html><body>502 Bad Gateway</body></html>"


async def test_a_redirect_is_reported_not_followed(serve: Any, make_bridge: MakeBridge) -> None:
    async def chat(request: web.Request) -> web.Response:
        raise web.HTTPFound("/somewhere-else")

    bridge = await make_bridge(BACKEND_URL=await serve(chat))
    response = await bridge.client.post("/v1/chat/completions", json={"model": "upstream/old", "messages": user("x")})
    error = (await response.json())["error"]
    assert response.status == 502 and error["code"] == "upstream_bad_response" and "HTTP 302" in error["message"]
