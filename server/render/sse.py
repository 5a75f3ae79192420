"""The SSE transport: start on the first event (or a keep-alive), write frames, end cleanly.

It knows no wire format: an `SseFormat` turns events into frames. It owns what every stream
needs: headers only once there is something to say (so early errors stay plain JSON errors),
keep-alive comments while the backend is silent, the request deadline, and errors after the
stream began, which become the format's in-stream error frames.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Generic, Protocol, TypeVar

import structlog
from aiohttp import web

from server.facts import RequestFacts
from server.keys import FACTS
from server.protocol.errors import ErrorInfo, ServerShuttingDown, error_info
from server.serve import SHUTDOWN_CANCEL

log = structlog.get_logger(__name__)
KEEPALIVE_S = 15.0
E = TypeVar("E")
E_contra = TypeVar("E_contra", contravariant=True)


class SseFormat(Protocol[E_contra]):
    """A wire format for one stream of events."""

    def opening(self) -> bytes:
        """Frames sent as soon as the stream starts."""

    def frames(self, event: E_contra) -> tuple[bytes, bool]:
        """The frames for one event, and whether it was the last one."""

    def failure(self, info: ErrorInfo) -> bytes:
        """The frames that end a stream that failed after it began."""

    def keepalive(self) -> bytes:
        """What to send while the backend is silent (an SSE comment, or an event some clients need)."""


class _Pull(Generic[E]):
    """Reads the next event without cancelling the generator when a keep-alive is due."""

    def __init__(self, events: AsyncIterator[E]) -> None:
        self._events = events
        self._task: asyncio.Task[E] | None = None

    async def next(self, timeout: float) -> E | None:
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


async def stream_sse(
    request: web.Request,
    events: AsyncIterator[E],
    fmt: SseFormat[E],
    headers: Mapping[str, str],
    deadline_at: float,
    keepalive_s: float = KEEPALIVE_S,
) -> web.StreamResponse:
    """Send SSE from the first event on; errors before it propagate as plain JSON errors."""
    facts = request[FACTS]
    pull = _Pull(events)
    loop = asyncio.get_running_loop()
    try:
        first = await _next_before(pull, min(deadline_at, loop.time() + keepalive_s), deadline_at)
    except StopAsyncIteration:
        raise RuntimeError("the event stream ended before its last event") from None
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
        await response.write(fmt.opening())
        await _pump(response, pull, first, fmt, deadline_at, keepalive_s, facts)
    except asyncio.CancelledError as exc:
        await pull.cancel()
        if SHUTDOWN_CANCEL in exc.args:  # the server is stopping: end the stream cleanly, then go
            await _end_with_error(response, fmt, ServerShuttingDown("the server is shutting down; retry the request"), facts)
        raise
    except ConnectionResetError:
        await pull.cancel()
        raise
    except Exception as exc:  # noqa: BLE001 - once streaming, every error becomes an in-stream event
        await pull.cancel()
        await _end_with_error(response, fmt, exc, facts)
        return response
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def _end_with_error(response: web.StreamResponse, fmt: SseFormat[E], exc: BaseException, facts: RequestFacts) -> None:
    """The format's in-stream error frames, and the end of the response."""
    info = error_info(exc)
    log.warning("stream_error", status=info.status, code=info.code, error_message=info.message)
    facts.error = info.body()["error"]
    with contextlib.suppress(ConnectionResetError):
        await response.write(fmt.failure(info))
        await response.write_eof()


async def _next_before(pull: _Pull[E], start_by: float, deadline_at: float) -> E | None:
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
    response: web.StreamResponse,
    pull: _Pull[E],
    event: E | None,
    fmt: SseFormat[E],
    deadline_at: float,
    keepalive_s: float,
    facts: RequestFacts,
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        if event is None:
            if loop.time() >= deadline_at:
                raise TimeoutError
            await response.write(fmt.keepalive())  # also how a silent backend notices a gone client
        else:
            data, last = fmt.frames(event)
            if data:
                await response.write(data)
            if last:
                facts.stream_done = True
                return
        try:
            event = await pull.next(timeout=max(0.0, min(keepalive_s, deadline_at - loop.time())))
        except StopAsyncIteration:
            raise RuntimeError("the event stream ended before its last event") from None
