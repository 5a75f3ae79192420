"""Keeps one headless Copilot server warm: start, warm-up, restart with backoff, recycle, shutdown.

The server holds a CLI-slot reservation while it can (it counts toward MAX_CONCURRENT_CLIS but
gives the slot to any request that has to wait); each request it answers holds a slot of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from executors.background import Background
from executors.cli.config import CliConfig
from executors.copilot.headless import HeadlessServer, HeadlessUnavailable
from executors.copilot.state import copilot_home
from executors.slots import CliSlots

log = structlog.get_logger(__name__)
MAX_FAILURES = 3  # failed starts or early deaths in a row before auto mode falls back to one-shot
STABLE_AFTER_S = 60.0  # a server that lived this long before dying was not "dying again"
BACKOFF_MAX_S = 30.0
START_TIMEOUT_S = 60.0  # the first run unpacks the CLI (seconds); a loaded machine is slower
TICK_S = 5.0


@dataclass(frozen=True, slots=True)
class HeadlessOptions:
    """How the runner treats its server: when to recycle it, what it warms up with."""

    recycle_sessions: int = 1000  # 0: never
    recycle_rss_mb: int = 1024  # 0: never
    warm_model: str = "gpt-4.1"


class HeadlessRunner:
    """The current headless server (started on demand or ahead of it) and the ones being retired."""

    def __init__(self, config: CliConfig, slots: CliSlots, cwd: Path, options: HeadlessOptions,
                 provider: Mapping[str, Any] | None, background: Background) -> None:
        self._config = config
        self._background = background
        self._slots = slots
        self._cwd = cwd
        self._options = options
        self._provider = provider
        self._home = copilot_home(config.child_env())
        self._server: HeadlessServer | None = None
        self._starting: asyncio.Task[HeadlessServer] | None = None
        self._retired: set[HeadlessServer] = set()
        self._tasks: set[asyncio.Task[Any]] = set()  # servers being stopped: awaited at shutdown
        self._timers: set[asyncio.Task[Any]] = set()  # the upkeep loop, restarts due later
        self._reservation: int | None = None
        self._closed = False
        self.unsupported: str | None = None  # why this CLI cannot serve headless at all
        self.last_error: str | None = None
        self.failures = 0
        self.starts = 0
        self._retry_at = 0.0

    # -- requests
    def usable(self) -> bool:
        """Whether auto mode should use the server now (else one-shot, until it is back)."""
        if self.unsupported is not None:
            return False
        if self._starting is not None or (self._server is not None and self._server.alive):
            return True
        return self.failures < MAX_FAILURES or time.monotonic() >= self._retry_at

    async def server(self) -> HeadlessServer:
        """The live server, started now if there is none; raises HeadlessUnavailable."""
        if self.unsupported is not None:
            raise HeadlessUnavailable(self.unsupported, unsupported=True)
        current = self._server
        if current is not None and current.alive and current.retiring is None:
            return current
        return await asyncio.shield(self._start_task(background=False))

    @contextlib.contextmanager
    def session(self, server: HeadlessServer | None) -> Iterator[None]:
        """Around one request on `server` (None: it went one-shot): a completed one shows the server
        works; afterwards the server may be recycled."""
        if server is None:
            yield
            return
        try:
            yield
            self.failures = 0
        finally:
            self._after_session(server)

    # -- lifecycle
    async def start(self) -> None:
        """Start and warm up a server in the background (requests wait for it or go one-shot)."""
        self._start_task(background=True)
        self._timers.add(asyncio.get_running_loop().create_task(self._tick_loop()))

    async def aclose(self) -> None:
        """Stop every server and timer; give the slot reservation back."""
        self._closed = True
        for timer in list(self._timers):
            timer.cancel()
        # A start in progress stops what it spawned when cancelled; a stop in progress must finish.
        if self._starting is not None:
            self._starting.cancel()
        await asyncio.gather(*self._timers, *self._tasks, *([self._starting] if self._starting else []),
                             return_exceptions=True)
        servers = [s for s in (self._server, *self._retired) if s is not None]
        self._server = None
        await asyncio.gather(*(s.close() for s in servers), return_exceptions=True)
        self._release_reservation()

    def _start_task(self, *, background: bool) -> asyncio.Task[HeadlessServer]:
        if self._starting is None:
            task = asyncio.get_running_loop().create_task(self._start(background))
            task.add_done_callback(self._started)
            self._starting = task
        return self._starting

    def _started(self, task: asyncio.Task[HeadlessServer]) -> None:
        self._starting = None
        if not task.cancelled():
            task.exception()  # retrieved here: a failed background start has no other reader

    async def _start(self, background: bool) -> HeadlessServer:
        try:
            server = await HeadlessServer.start(
                self._config, cwd=self._cwd, home=self._home, provider=self._provider,
                background=background, timeout_s=START_TIMEOUT_S, files=self._background)
        except HeadlessUnavailable as exc:
            self._failed(exc.message, unsupported=exc.unsupported)
            raise
        if self._closed:
            await server.close()
            raise HeadlessUnavailable("the bridge is shutting down")
        self.starts += 1
        self._server = server
        server.exited.add_done_callback(lambda _: self._exited(server))
        server.on_retire = self._replace_if_retiring
        self.reserve()
        if background:
            await server.warm_up(self._options.warm_model)
        server.warmed = True
        return server

    def _failed(self, reason: str, *, unsupported: bool = False) -> None:
        self.last_error = reason
        if unsupported:
            self.unsupported = reason
            log.warning("copilot_headless_unsupported", reason=reason)
            return
        self.failures += 1
        delay = 0.0 if self.failures <= 1 else min(BACKOFF_MAX_S, 2.0 ** (self.failures - 2))
        self._retry_at = time.monotonic() + delay
        log.warning("copilot_headless_failed", reason=reason, failures=self.failures, retry_in_s=delay)
        timer = asyncio.get_running_loop().create_task(self._restart_after(delay))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    def _exited(self, server: HeadlessServer) -> None:
        self._retired.discard(server)
        if self._server is server:
            self._server = None
            self._release_reservation()
        self._spawn(server.close())  # the rest of its group and its pipes (nothing if already closing)
        if self._closed or server.closing or server.retiring is not None:
            return  # stopped by us, or already replaced
        code = server.process.returncode
        lived = time.monotonic() - server.started_at
        log.warning("copilot_headless_died", pid=server.process.pid, returncode=code, lived_s=round(lived, 1),
                    active=server.active)
        if lived >= STABLE_AFTER_S:
            self.failures = 0
        self._failed(f"the copilot headless server exited ({code}): {server.process.stderr_tail().strip()[-500:]}")

    async def _restart_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._closed or self._starting is not None or (self._server is not None and self._server.alive):
            return
        with contextlib.suppress(HeadlessUnavailable):
            await self._start_task(background=True)

    def _after_session(self, server: HeadlessServer) -> None:
        limit = self._options.recycle_sessions
        if limit and server.served >= limit:
            server.retire(f"served {server.served} sessions")  # replaced by on_retire
        self._replace_if_retiring(server)  # a retired server is stopped once its last session ends

    def _replace_if_retiring(self, server: HeadlessServer) -> None:
        if server.retiring is None:
            return
        if self._server is server:
            self._server = None
            self._retired.add(server)
            self._release_reservation()
            if not self._closed:
                self._start_task(background=True)
        if server.active == 0 and server in self._retired:
            self._retired.discard(server)
            self._spawn(server.close())

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            server = self._server
            if server is not None and server.alive:
                rss = await server.measure()
                limit = self._options.recycle_rss_mb
                if limit and rss is not None and rss > limit * 1024 * 1024:
                    server.retire(f"its processes use {rss // (1024 * 1024)} MB (COPILOT_RECYCLE_RSS_MB={limit})")
            for old in list(self._retired):
                self._replace_if_retiring(old)
            self.reserve()

    # -- slots
    def reserve(self) -> None:
        """Hold a slot for the idle server, if one is free and no request waits."""
        if self._reservation is None and self._server is not None and self._server.alive and not self._closed:
            self._reservation = self._slots.reserve(self._release_reservation)

    def _release_reservation(self) -> None:
        token, self._reservation = self._reservation, None
        if token is not None:
            self._slots.release(token)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- reporting
    def describe(self) -> dict[str, Any]:
        """The warm processes for /health."""
        current = self._server if self._server is not None and self._server.alive else None
        state = ("unsupported" if self.unsupported else "ready" if current else
                 "starting" if self._starting else "failing" if self.failures >= MAX_FAILURES else "down")
        return {"state": state, "processes": len(self._alive()), "restarts": max(0, self.starts - 1),
                "server": current.describe() if current else None,
                "retiring": [s.describe() for s in self._retired if s.alive],
                "last_error": self.last_error}

    def stats(self) -> dict[str, int]:
        """Counts for metrics."""
        alive = self._alive()
        active = sum(s.active for s in alive)
        return {"processes_running": sum(1 for s in alive if s.active), "requests_active": active,
                "processes_idle": sum(1 for s in alive if not s.active and s.retiring is None),
                "processes_warm": len(alive), "processes_warmed": sum(1 for s in alive if s.warmed),
                "restarts": max(0, self.starts - 1),
                "sessions_served": sum(s.served for s in alive)}

    def _alive(self) -> list[HeadlessServer]:
        return [s for s in (self._server, *self._retired) if s is not None and s.alive]
