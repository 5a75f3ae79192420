"""The SSE transport on its own: frames in order, keep-alives while silent, the deadline, errors, a gone client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.converters import TextOut
from server.facts import RequestFacts
from server.keys import FACTS
from server.pipeline.events import Completed, OutputEvent, Usage
from server.render.chat import ChatFormat
from server.render.sse import stream_sse
from tests.server.sse_helpers import read_events

Script = Callable[[], AsyncIterator[OutputEvent]]


class Probe:
    """What the scripted event source saw: how far it got and whether it was closed."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.yielded = 0


async def serve(aiohttp_client: Any, script: Script, *, keepalive_s: float = 15.0, deadline_s: float = 10.0) -> TestClient:
    async def handler(request: web.Request) -> web.StreamResponse:
        request[FACTS] = RequestFacts("req_t", request.method, request.path)
        loop = asyncio.get_running_loop()
        events = script()
        try:
            return await stream_sse(request, events, ChatFormat("m"), {}, loop.time() + deadline_s, keepalive_s)
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    app = web.Application()
    app.router.add_post("/s", handler)
    return await aiohttp_client(app, server_kwargs={"handler_cancellation": True})


def texts(events: list[Any]) -> list[str]:
    return [e["choices"][0]["delta"]["content"] for e in events
            if isinstance(e, dict) and e.get("choices") and "content" in e["choices"][0]["delta"]]


async def test_a_burst_of_events_arrives_whole_and_in_order(aiohttp_client: Any) -> None:
    async def burst() -> AsyncIterator[OutputEvent]:
        for i in range(200):  # all available at once: several frames may share one write
            yield TextOut(f"t{i} ")
            if i % 50 == 0:
                await asyncio.sleep(0.01)
        yield Completed("stop", Usage(1, 200))

    client = await serve(aiohttp_client, burst)
    events = await read_events(await client.post("/s"))
    assert texts(events) == ["", *[f"t{i} " for i in range(200)]]
    assert events[-1] == "[DONE]" and events[-2]["choices"][0]["finish_reason"] == "stop"


async def test_keepalives_while_the_backend_is_silent_mid_stream(aiohttp_client: Any) -> None:
    async def pause() -> AsyncIterator[OutputEvent]:
        yield TextOut("before")
        await asyncio.sleep(0.5)
        yield TextOut("after")
        yield Completed("stop", Usage(1, 2))

    client = await serve(aiohttp_client, pause, keepalive_s=0.1)
    raw = (await (await client.post("/s")).read()).decode()
    between = raw[raw.index("before"):raw.index("after")]
    assert 3 <= between.count(": keep-alive\n\n") <= 6
    assert raw.endswith("data: [DONE]\n\n")


async def test_the_deadline_ends_the_stream_with_an_error_after_what_was_sent(aiohttp_client: Any) -> None:
    probe = Probe()

    async def stuck() -> AsyncIterator[OutputEvent]:
        try:
            yield TextOut("partial")
            await asyncio.sleep(30)
            yield Completed("stop", Usage(1, 1))
        finally:
            probe.closed.set()

    client = await serve(aiohttp_client, stuck, deadline_s=0.4)
    events = await read_events(await client.post("/s"))
    assert texts(events) == ["", "partial"]
    assert events[-2]["error"]["code"] == "timeout" and events[-1] == "[DONE]"
    assert probe.closed.is_set()  # the source was closed (a CLI would be stopped)


async def test_an_error_after_the_start_follows_the_frames_already_read(aiohttp_client: Any) -> None:
    async def breaks() -> AsyncIterator[OutputEvent]:
        for word in ("one", "two", "three"):
            yield TextOut(word)
        raise RuntimeError("backend fell over")

    client = await serve(aiohttp_client, breaks)
    events = await read_events(await client.post("/s"))
    assert texts(events) == ["", "one", "two", "three"]
    assert events[-2]["error"]["type"] and events[-1] == "[DONE]"


async def test_an_error_before_the_first_event_is_a_plain_response(aiohttp_client: Any) -> None:
    async def fails() -> AsyncIterator[OutputEvent]:
        raise RuntimeError("no output at all")
        yield TextOut("never")  # pragma: no cover - makes this an async generator

    client = await serve(aiohttp_client, fails)
    resp = await client.post("/s")
    assert resp.status == 500 and resp.headers["Content-Type"].startswith("text/plain")  # no SSE headers went out


async def test_a_gone_client_closes_the_source(aiohttp_client: Any) -> None:
    probe = Probe()

    async def endless() -> AsyncIterator[OutputEvent]:
        try:
            while True:
                probe.yielded += 1
                yield TextOut("x")
                await asyncio.sleep(0.02)
        finally:
            probe.closed.set()

    client = await serve(aiohttp_client, endless)
    async with aiohttp.ClientSession() as session:
        resp = await session.post(client.make_url("/s"))
        await resp.content.readuntil(b'"x"')
        resp.close()
    await asyncio.wait_for(probe.closed.wait(), 3)
    assert probe.yielded >= 1


async def test_nothing_follows_the_last_frame_even_with_a_keepalive_due(aiohttp_client: Any) -> None:
    async def late_end() -> AsyncIterator[OutputEvent]:
        yield TextOut("hi")
        time.sleep(0.05)  # noqa: ASYNC251 - held on purpose: a keep-alive is overdue as the last frame is queued
        yield Completed("stop", Usage(1, 1))

    client = await serve(aiohttp_client, late_end, keepalive_s=0.01)
    for _ in range(20):  # the keep-alive task's turn comes while the end is being flushed
        body = await (await client.post("/s")).text()
        assert body.endswith("data: [DONE]\n\n"), body[-80:]
