"""Sending a planned answer the way the server would, or failing the way a broken one does."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from tests.fakes.upstream_plan import Plan
from tests.fakes.upstream_shapes import Json, Personality

RELEASE_KEY = web.AppKey("upstream_release", asyncio.Event)


def dumps(personality: Personality, data: Json, *, sse: bool = False) -> str:
    """JSON text as the server writes it."""
    # llama-cpp-python json.dumps()es its SSE chunks with Python's default ", " / ": "; its JSON
    # bodies (Starlette) and every other server's JSON are compact.
    if sse and personality == "llama_cpp_python":
        return json.dumps(data)
    return json.dumps(data, separators=(",", ":"))


async def _before_first_byte(request: web.Request, plan: Plan) -> bool:
    """Slow first byte, or a hang; True when the connection is gone."""
    if plan.first_byte:
        await asyncio.sleep(plan.first_byte)
    if plan.failure == "hang":
        await _hang(request)
        return True
    return False


async def _hang(request: web.Request) -> None:
    """Wait until the client goes away or the server shuts down, then cut the connection."""
    await request.app[RELEASE_KEY].wait()
    _drop(request)


def _drop(request: web.Request) -> None:
    # abort(): no terminating chunk, no clean close; the client sees a broken payload.
    if request.transport is not None:
        request.transport.abort()


async def send_whole(request: web.Request, personality: Personality, plan: Plan,
                     body: Json) -> web.StreamResponse:
    """A whole JSON answer, or a malformed, dropped or stalled one."""
    if await _before_first_byte(request, plan):
        return web.Response()  # never sent: the transport is gone
    text = dumps(personality, body)
    if plan.failure in ("drop", "stall"):
        # Without a stream there is nothing to stall in: both cut the connection, stall later.
        if plan.failure == "stall":
            await _hang(request)
        _drop(request)
        return web.Response()
    if plan.failure == "malformed":
        text = text[: len(text) // 2]
    return web.Response(text=text, content_type="application/json")


async def send_stream(request: web.Request, personality: Personality, plan: Plan,
                      chunks: list[Json]) -> web.StreamResponse:
    """SSE `data:` events, `[DONE]` at the end, unless the plan says to fail on the way."""
    if await _before_first_byte(request, plan):
        return web.Response()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-cache"})
    await response.prepare(request)
    for index, chunk in enumerate(chunks):
        if index == plan.after and plan.failure is not None:
            return await _fail_mid_stream(request, response, plan, chunk, personality)
        if index and plan.delay:
            await asyncio.sleep(plan.delay)
        await response.write(f"data: {dumps(personality, chunk, sse=True)}\n\n".encode())
        if index == 0 and plan.ping:
            # sse-starlette's keep-alive comment (llama-cpp-python), every 15 s on a real server.
            await response.write(b": ping - 2026-11-30 00:00:00.000000+00:00\n\n")
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def _fail_mid_stream(request: web.Request, response: web.StreamResponse, plan: Plan,
                           chunk: Json, personality: Personality) -> web.StreamResponse:
    if plan.failure == "malformed":
        # Half a JSON object, then the stream goes on to its end as if nothing happened.
        text = dumps(personality, chunk, sse=True)
        await response.write(f"data: {text[: len(text) // 2]}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
    elif plan.failure == "drop":
        _drop(request)
    else:  # stall (and hang, already waited for): headers and some chunks, then silence
        await _hang(request)
    return response
