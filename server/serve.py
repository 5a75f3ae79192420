"""Serve one app in this process until SIGTERM/SIGINT, then drain: finish, or end, what is running.

On the first signal the listening socket closes and idle keep-alive connections are dropped;
requests in flight get SHUTDOWN_GRACE seconds to finish; what is still running then is cancelled
with SHUTDOWN_CANCEL as the message (its CLI is killed by the completion's own cleanup).
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from aiohttp import web

from server.middleware import Handler
from server.settings import Settings

log = structlog.get_logger(__name__)
# The cancel message of requests ended by shutdown, so a stream can tell that from a client leaving.
SHUTDOWN_CANCEL = "bridge_shutdown"


class Inflight:
    """The tasks running request handlers right now."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    async def drain(self, grace_s: float, settle_s: float) -> int:
        """Wait up to `grace_s` for the running requests; cancel the rest; returns how many were cut."""
        pending = {t for t in self.tasks if not t.done()}
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace_s)
        for task in pending:
            task.cancel(SHUTDOWN_CANCEL)
        if pending:
            await asyncio.wait(pending, timeout=settle_s)
        return len(pending)


INFLIGHT = web.AppKey("inflight", Inflight)


async def inflight_ctx(app: web.Application) -> AsyncIterator[None]:
    """Give the app its in-flight registry."""
    app[INFLIGHT] = Inflight()
    yield


@web.middleware
async def track_inflight(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Register the handler's task while it runs, so shutdown can wait for it."""
    inflight = request.app.get(INFLIGHT)
    task = asyncio.current_task()
    if inflight is None or task is None:
        return await handler(request)
    inflight.tasks.add(task)
    try:
        return await handler(request)
    finally:
        inflight.tasks.discard(task)


def serve(app: web.Application, settings: Settings, *, reuse_port: bool = False,
          on_ready: Callable[[], None] | None = None) -> None:
    """Run `app` on HOST:PORT until a signal, then drain and clean up (blocks)."""
    asyncio.run(_serve(app, settings, reuse_port, on_ready))


def _watch_children_with_pidfds() -> None:
    """On Python 3.11, learn of CLI exits through pidfds on the loop instead of a thread per child.

    3.12 does this by itself (and deprecates choosing a watcher); a kernel without pidfd_open
    keeps the default thread-per-child watcher.
    """
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return
    watcher = asyncio.PidfdChildWatcher()
    watcher.attach_loop(asyncio.get_running_loop())
    asyncio.set_child_watcher(watcher)


async def _serve(app: web.Application, settings: Settings, reuse_port: bool,
                 on_ready: Callable[[], None] | None) -> None:
    _watch_children_with_pidfds()
    # handler_cancellation: a client that disconnects cancels its handler, which kills the CLI.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port or None)
        await site.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)  # a second signal changes nothing
        # Everything built so far lives as long as the server: keep it out of the cyclic GC's
        # full passes, which would otherwise walk it again and again under load.
        gc.freeze()
        if on_ready is not None:
            on_ready()
        await stop.wait()
        started = time.monotonic()
        inflight = app[INFLIGHT]
        log.info("shutdown_started", in_flight=len(inflight.tasks), grace_s=settings.shutdown_grace_s)
        await site.stop()
        if runner.server is not None:
            runner.server.pre_shutdown()  # idle keep-alive connections take no new requests
        cut = await inflight.drain(settings.shutdown_grace_s, settle_s=settings.kill_grace_ms / 1000 + 2)
        log.info("shutdown_drained", cut_short=cut, seconds=round(time.monotonic() - started, 2))
    finally:
        await runner.cleanup()


def announce(settings: Settings, workers: int = 1) -> None:
    """The one line an operator looks for on stderr."""
    suffix = f" ({workers} workers)" if workers > 1 else ""
    print(f"copilot-bridge listening on http://{settings.host}:{settings.port}{suffix}", file=sys.stderr, flush=True)
