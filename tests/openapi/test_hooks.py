"""The recording hooks: aiohttp and the openai SDK hand the bytes a test read to the checker."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web
from openai import AsyncOpenAI

from tests.openapi.hooks import WireLog, checked_httpx_client, checked_session, wire_log_active

COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m", "system_fingerprint": None,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": None}, "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
CHUNK = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": None, "finish_reason": None}]}
FINAL = {**CHUNK, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}


async def chat(request: web.Request) -> web.StreamResponse:
    """A bridge stand-in: JSON with a null fingerprint, or a stream that may leave out `[DONE]`."""
    body = await request.json()
    if not body.get("stream"):
        return web.json_response(COMPLETION)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for payload in (CHUNK, FINAL):
        await response.write(f"data: {json.dumps(payload)}\n\n".encode())
    if body.get("done", True):
        await response.write(b"data: [DONE]\n\n")
    return response


async def health(request: web.Request) -> web.Response:
    return web.Response(text="anything goes")


async def started(aiohttp_server: Callable[..., Any]) -> str:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/health", health)
    server = await aiohttp_server(app)
    return str(server.make_url(""))


async def test_aiohttp_responses_are_recorded_as_read(aiohttp_server: Callable[..., Any]) -> None:
    url = await started(aiohttp_server)
    with wire_log_active(WireLog()) as log:
        async with checked_session() as session:
            async with session.post(f"{url}/v1/chat/completions", json={}) as resp:
                assert (await resp.json())["id"] == "chatcmpl-1"
            async with session.get(f"{url}/health") as resp:
                assert await resp.text() == "anything goes"
            async with session.post(f"{url}/v1/chat/completions", json={"stream": True, "done": False}) as resp:
                lines = [line async for line in resp.content]
    assert len(lines) == 4
    assert [(e.path, e.status, e.complete) for e in log.exchanges] == [
        ("/v1/chat/completions", 200, True), ("/health", 200, True), ("/v1/chat/completions", 200, True)]
    assert [str(v) for v in log.violations()] == [
        'POST /v1/chat/completions 200: CreateChatCompletionResponse $.system_fingerprint: expected "string", got null (value: null)',
        "POST /v1/chat/completions 200: SSE $: the stream does not end with `data: [DONE]`",
    ]


async def test_a_stream_left_early_is_checked_only_as_far_as_it_was_read(aiohttp_server: Callable[..., Any]) -> None:
    url = await started(aiohttp_server)
    with wire_log_active(WireLog()) as log:
        async with checked_session() as session, session.post(
            f"{url}/v1/chat/completions", json={"stream": True, "done": False}
        ) as resp:
            first = await resp.content.readuntil(b"\n\n")
            resp.close()
    assert first.startswith(b"data: ") and log.exchanges[0].body == first
    assert not log.exchanges[0].complete and log.violations() == []


async def test_the_openai_sdk_client_records_json_and_streams(aiohttp_server: Callable[..., Any]) -> None:
    url = await started(aiohttp_server)
    with wire_log_active(WireLog()) as log:
        async with AsyncOpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0, http_client=checked_httpx_client()) as sdk:
            answer = await sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            stream = await sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
            pieces = [c.choices[0].delta.content async for c in stream]
    assert answer.choices[0].message.content == "Hi" and pieces == ["Hi", None]
    assert len(log.exchanges) == 2 and log.exchanges[1].body.endswith(b"data: [DONE]\n\n")
    assert [str(v) for v in log.violations()] == [
        'POST /v1/chat/completions 200: CreateChatCompletionResponse $.system_fingerprint: expected "string", got null (value: null)']


async def test_the_innermost_log_records(aiohttp_server: Callable[..., Any], wire_schema_check: WireLog) -> None:
    url = await started(aiohttp_server)
    inner = WireLog()
    with wire_log_active(inner):
        async with checked_session() as session, session.get(f"{url}/health") as resp:
            await resp.read()
    assert len(inner.exchanges) == 1 and wire_schema_check.exchanges == []
