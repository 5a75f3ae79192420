"""The SSE transport: start on the first event (or a keep-alive), write frames, end cleanly.

It knows no wire format: an `SseFormat` turns events into frames. It owns what every stream
needs: headers only once there is something to say (so early errors stay plain JSON errors),
keep-alive comments while the backend is silent, the request deadline, and errors after the
stream began, which become the format's in-stream error frames.

Once started, the handler's own task reads the events and writes their frames: no task and no
timer per event. A keep-alive task per stream wakes only when nothing was written for a
keep-alive period, and one deadline timer per stream cancels the read when time is up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Generic, Protocol, Self, TypeVar

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


class _FirstEvent(Generic[E]):
    """Waits for the first event without cancelling the generator when a keep-alive is due."""

    def __init__(self, events: AsyncIterator[E]) -> None:
        self.task: asyncio.Task[E] = asyncio.ensure_future(anext(events))

    async def before(self, start_by: float, deadline_at: float) -> E | None:
        """The first event; None when `start_by` passed first; TimeoutError at the request deadline."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if now >= deadline_at:
                raise TimeoutError
            if now >= start_by:
                return None
            done, _ = await asyncio.wait({self.task}, timeout=start_by - now)
            if done:
                return self.task.result()

    async def cancel(self) -> None:
        """Stop the pending read (the generator is closed by its owner)."""
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


class _Writer:
    """The started response: frames queued in one turn of the loop go out in one write.

    The reader (the handler's task) queues frames as it reads events; a sender task writes
    whatever is queued once the reader has to wait, so events that arrive together (a busy
    server reads several lines per turn) cost one write and one segment instead of one each.
    A keep-alive goes out when nothing was written for a keep-alive period.
    """

    def __init__(self, response: web.StreamResponse, keepalive: Callable[[], bytes], keepalive_s: float) -> None:
        self.response = response
        self._keepalive_frame = keepalive  # called only when one is due: a format may number its events
        self._loop = asyncio.get_running_loop()
        self._keepalive_s = keepalive_s
        self.last_write = self._loop.time()
        self._reader = asyncio.current_task()
        self._queued: list[bytes] = []
        self._wakeup: asyncio.Future[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None

    def __enter__(self) -> Self:
        self._sender = asyncio.create_task(self._send_forever())
        self._keepalive = asyncio.create_task(self._keep_alive())
        return self

    def __exit__(self, *exc: object) -> None:
        for task in (self._sender, self._keepalive):
            if task is not None:
                task.cancel()

    def queue(self, data: bytes) -> None:
        """Send `data` with whatever else is queued in this turn of the loop."""
        self._queued.append(data)
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def flush(self) -> None:
        """Stop the sender and write what is still queued (before the end or an error frame)."""
        if self._keepalive is not None:  # first, before any await: nothing may follow the last frame
            self._keepalive.cancel()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None
        if self._queued:
            with contextlib.suppress(ConnectionResetError):  # the client left; the caller's own outcome stands
                await self._write_queued()

    async def _write_queued(self) -> None:
        queued, self._queued = self._queued, []
        await self.response.write(queued[0] if len(queued) == 1 else b"".join(queued))
        self.last_write = self._loop.time()

    async def _send_forever(self) -> None:
        try:
            while True:
                if not self._queued:
                    self._wakeup = self._loop.create_future()
                    await self._wakeup
                await self._write_queued()
        except ConnectionResetError:
            if self._reader is not None:
                self._reader.cancel()  # nobody reads the answer: stop reading the backend

    async def _keep_alive(self) -> None:
        # Sleeps until a keep-alive period after the last write; a write meanwhile moves that on.
        while True:
            wait = self.last_write + self._keepalive_s - self._loop.time()
            if wait > 0.001:
                await asyncio.sleep(wait)
                continue
            self.queue(self._keepalive_frame())  # also how a silent backend notices a gone client
            self.last_write = self._loop.time()


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
    loop = asyncio.get_running_loop()
    first_event = _FirstEvent(events)
    try:
        first = await first_event.before(min(deadline_at, loop.time() + keepalive_s), deadline_at)
    except StopAsyncIteration:
        raise RuntimeError("the event stream ended before its last event") from None
    except BaseException:
        await first_event.cancel()
        raise
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        **headers,
    })
    try:
        await response.prepare(request)
    except BaseException:
        await first_event.cancel()
        raise
    try:
        with _Writer(response, fmt.keepalive, keepalive_s) as writer:
            writer.queue(fmt.opening() if first is not None else fmt.opening() + fmt.keepalive())
            try:
                async with asyncio.timeout_at(deadline_at):
                    if first is None:  # started by the keep-alive: the first event is still on its way
                        first = await first_event.task
                    await _pump(writer, events, first, fmt, facts)
            finally:
                await writer.flush()  # what was read goes out before the end or the error frames
    except asyncio.CancelledError as exc:
        await first_event.cancel()
        if SHUTDOWN_CANCEL in exc.args:  # the server is stopping: end the stream cleanly, then go
            await _end_with_error(response, fmt, ServerShuttingDown("the server is shutting down; retry the request"), facts)
        raise
    except ConnectionResetError:
        await first_event.cancel()
        raise
    except StopAsyncIteration:
        await _end_with_error(response, fmt, RuntimeError("the event stream ended before its last event"), facts)
        return response
    except Exception as exc:  # noqa: BLE001 - once streaming, every error becomes an in-stream event
        await first_event.cancel()
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


async def _pump(writer: _Writer, events: AsyncIterator[E], event: E, fmt: SseFormat[E], facts: RequestFacts) -> None:
    """Write each event's frames as it arrives, up to the last one."""
    while True:
        data, last = fmt.frames(event)
        if data:
            writer.queue(data)
        if last:
            facts.stream_done = True
            return
        event = await anext(events)
