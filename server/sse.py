"""Write an output-event stream as OpenAI server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import structlog
from aiohttp import web

from server.completion import Completed, OutputEvent
from server.errors import ServerShuttingDown, error_info
from server.request_log import STREAM_DONE
from server.serve import SHUTDOWN_CANCEL
from server.wire import ChunkFactory

log = structlog.get_logger(__name__)
KEEPALIVE_S = 15.0


def _frame(payload: Mapping[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"data: {data}\n\n".encode()


class _Pull:
    """Reads the next event without cancelling the generator when a keep-alive is due."""

    def __init__(self, events: AsyncIterator[OutputEvent]) -> None:
        self._events = events
        self._task: asyncio.Task[OutputEvent] | None = None

    async def next(self, timeout: float) -> OutputEvent | None:
        """The next event, None on timeout; StopAsyncIteration at the end."""
        if self._task is None:
            self._task = asyncio.ensure_future(anext(self._events))
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        if not done:
            return None
        task, self._task = self._task, None
        return task.result()

    async def cancel(self) -> None:
        """Stop a pending read (the generator is closed by its owner)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task


async def stream_completion(
    request: web.Request,
    events: AsyncIterator[OutputEvent],
    factory: ChunkFactory,
    headers: Mapping[str, str],
    deadline_at: float,
    keepalive_s: float = KEEPALIVE_S,
) -> web.StreamResponse:
    """Send SSE from the first event on; errors before it propagate as plain JSON errors.

    A CLI that stays silent longer than `keepalive_s` gets the stream started anyway, with
    keep-alive comments, so proxies and clients do not give up on an idle connection.
    """
    pull = _Pull(events)
    loop = asyncio.get_running_loop()
    try:
        first = await _next_before(pull, min(deadline_at, loop.time() + keepalive_s), deadline_at)
    except StopAsyncIteration:
        raise RuntimeError("the completion ended without a Completed event") from None
    except BaseException:
        await pull.cancel()
        raise
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        **headers,
    })
    await response.prepare(request)
    try:
        await response.write(_frame(factory.role()))
        await _pump(request, response, pull, first, factory, deadline_at, keepalive_s)
    except asyncio.CancelledError as exc:
        await pull.cancel()
        if SHUTDOWN_CANCEL in exc.args:  # the server is stopping: end the stream cleanly, then go
            await _end_with_error(response, ServerShuttingDown("the server is shutting down; retry the request"))
        raise
    except ConnectionResetError:
        await pull.cancel()
        raise
    except Exception as exc:  # noqa: BLE001 - once streaming, every error becomes an in-stream event
        await pull.cancel()
        await _end_with_error(response, exc)
        return response
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def _end_with_error(response: web.StreamResponse, exc: BaseException) -> None:
    """An in-stream error event, `[DONE]`, and the end of the response."""
    info = error_info(exc)
    log.warning("stream_error", status=info.status, code=info.code, error_message=info.message)
    with contextlib.suppress(ConnectionResetError):
        await response.write(_frame(info.body()))
        await response.write(_frame("[DONE]"))
        await response.write_eof()


async def _next_before(pull: _Pull, start_by: float, deadline_at: float) -> OutputEvent | None:
    """The first event; None when `start_by` passed first; TimeoutError at the request deadline."""
    loop = asyncio.get_running_loop()
    while True:
        now = loop.time()
        if now >= deadline_at:
            raise TimeoutError
        if now >= start_by:
            return None
        event = await pull.next(timeout=start_by - now)
        if event is not None:
            return event


async def _pump(
    request: web.Request,
    response: web.StreamResponse,
    pull: _Pull,
    event: OutputEvent | None,
    factory: ChunkFactory,
    deadline_at: float,
    keepalive_s: float,
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        if event is None:
            if loop.time() >= deadline_at:
                raise TimeoutError
            await response.write(b": keep-alive\n\n")  # also how a silent CLI notices a gone client
        else:
            chunk = factory.event(event)
            if chunk is not None:
                await response.write(_frame(chunk))
            if isinstance(event, Completed):
                if factory.include_usage:
                    await response.write(_frame(factory.usage(event.usage)))
                await response.write(_frame("[DONE]"))
                request[STREAM_DONE] = True
                return
        try:
            event = await pull.next(timeout=max(0.0, min(keepalive_s, deadline_at - loop.time())))
        except StopAsyncIteration:
            raise RuntimeError("the completion ended without a Completed event") from None
