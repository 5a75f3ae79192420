"""Claude processes started ahead of demand: a few idle ones per recently used model.

Claude Code has no server mode, but a `claude -p --input-format stream-json` process started
early waits, silent, and later takes any system prompt through `control_request initialize`.
Each serves exactly one request (reusing one with `/clear` leaks text between requests). Every
idle process holds a CLI-slot reservation: it is spawned only when a slot is free and no request
waits, in the background (requests spawn first), and stopped as soon as a request needs its slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from executors.claude.launcher import ClaudeLauncher
from executors.claude.pooled import PooledClaude, Seat
from executors.cli.procstat import rss_by_group
from executors.slots import CliSlots
from tempdirs import RequestTempDir

log = structlog.get_logger(__name__)
ESTIMATED_RSS = 180 * 1024 * 1024  # one idle claude 2.1.197, measured 170 MB
TICK_S = 1.0
MEASURE_EVERY_S = 10.0
PAUSE_S = 60.0  # after a failed spawn, or (auto) idle processes dying in a row
MAX_IDLE_DEATHS = 3


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """How many processes to keep warm, for which models, for how long, within what memory."""

    size: int = 1  # idle processes per recently used model
    idle_timeout_s: float = 300.0  # a model not asked for this long gets none
    memory_mb: int = 1024  # idle processes' RSS in total; 0: no limit
    models: tuple[str, ...] = ()  # kept warm from start-up, asked for or not
    pause_on_deaths: bool = True  # auto mode: stop pooling a while when idle processes keep dying


class ClaudePool:
    """Idle processes per model; `take` one for a request, refill in the background."""

    def __init__(self, launcher: ClaudeLauncher, slots: CliSlots, temp_base: Path, options: PoolOptions) -> None:
        self._launcher = launcher
        self._slots = slots
        self._temp_base = temp_base
        self._options = options
        self._idle: dict[str, list[PooledClaude]] = {}
        self._demand: dict[str, float] = {}  # model → when it was last asked for
        self._tasks: set[asyncio.Task[Any]] = set()
        self._refill_task: asyncio.Task[None] | None = None
        self._tick: asyncio.Task[None] | None = None
        self._paused_until = 0.0
        self._idle_deaths = 0
        self._closed = False
        self.busy = 0  # taken processes answering now
        self.served = 0  # requests answered by a warm process
        self.cold = 0  # requests that found none
        self.died_idle = 0  # processes that died while waiting (each was replaced)

    def take(self, model: str) -> PooledClaude | None:
        """An idle process for `model` (now the caller's), or None: then start one cold."""
        self._demand[model] = time.monotonic()
        idle = self._idle.get(model, [])
        idle.sort(key=lambda p: not p.ready)  # a started-up one first
        while idle:
            process = idle.pop(0)
            if process.alive:
                process.claim()
                self.served += 1
                self.busy += 1
                self._kick()
                return process
            self._died(process)
        self.cold += 1
        self._kick()
        return None

    async def done(self, process: PooledClaude) -> None:
        """The request a taken process served is over: stop it."""
        self.busy -= 1
        await process.aclose()

    async def start(self) -> None:
        """Warm the operator's models and start the upkeep loop."""
        for model in self._options.models:
            self._demand[model] = time.monotonic()
        self._tick = asyncio.get_running_loop().create_task(self._tick_loop())
        self._kick()

    async def aclose(self) -> None:
        """Stop every idle process and the background work."""
        self._closed = True
        if self._tick is not None:
            self._tick.cancel()
        # A refill in progress ends by itself (it stops what it started once closed); a stop in
        # progress must finish, or its process would outlive the bridge.
        await asyncio.gather(*self._tasks, *([self._tick] if self._tick else []), return_exceptions=True)
        idle = [p for procs in self._idle.values() for p in procs]
        self._idle.clear()
        await asyncio.gather(*(p.aclose() for p in idle), return_exceptions=True)

    # -- refilling
    def _kick(self) -> None:
        if self._refill_task is None and not self._closed:
            self._refill_task = asyncio.get_running_loop().create_task(self._refill())
            self._tasks.add(self._refill_task)
            self._refill_task.add_done_callback(self._refilled)

    def _refilled(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._refill_task = None

    def _wanted(self) -> str | None:
        now = time.monotonic()
        for model, asked in self._demand.items():
            recent = model in self._options.models or now - asked < self._options.idle_timeout_s
            if recent and len(self._idle.get(model, [])) < self._options.size:
                return model
        return None

    def _memory_allows(self) -> bool:
        if not self._options.memory_mb:
            return True
        idle = [p for procs in self._idle.values() for p in procs]
        measured = [p.rss for p in idle if p.rss]
        each = sum(measured) // len(measured) if measured else ESTIMATED_RSS
        used = sum(p.rss or each for p in idle)
        return used + each <= self._options.memory_mb * 1024 * 1024

    async def _refill(self) -> None:
        while not self._closed and time.monotonic() >= self._paused_until:
            model = self._wanted()
            if model is None or not self._memory_allows():
                return
            seat = Seat()
            token = self._slots.reserve(functools.partial(self._reclaim, seat))
            if token is None:
                return  # no free slot, or a request waits: it goes first
            process = await self._prestart(model, token)
            if process is None:
                return
            seat.process = process
            if seat.reclaimed or self._closed:
                await process.aclose()
                return
            self._idle.setdefault(model, []).append(process)
            log.info("claude_pool_ready", model=model, pid=process.running.process.pid)

    async def _prestart(self, model: str, token: int) -> PooledClaude | None:
        tempdir = RequestTempDir(self._temp_base)
        try:
            self._launcher.executable()  # a missing CLI fails here, before any dir exists
            workdir = await tempdir.__aenter__()
            running = await self._launcher.prestart(model, workdir)
        except Exception as exc:  # noqa: BLE001 - any spawn failure pauses the pool, never a request
            await tempdir.__aexit__(None, None, None)  # nothing if it was never made
            self._slots.release(token)
            self._paused_until = time.monotonic() + PAUSE_S
            log.warning("claude_pool_spawn_failed", model=model, error=str(exc), paused_s=PAUSE_S)
            return None
        return PooledClaude(model, running, tempdir, workdir, self._slots, token)

    def _reclaim(self, seat: Seat) -> None:
        # A request waits for a slot: this warm process gives its own up.
        seat.reclaimed = True
        process = seat.process
        if process is not None:
            with contextlib.suppress(ValueError):
                self._idle.get(process.model, []).remove(process)
            log.info("claude_pool_reclaimed", model=process.model)
            self._spawn(process.aclose())

    # -- upkeep
    async def _tick_loop(self) -> None:
        measured_at = 0.0
        while True:
            await asyncio.sleep(TICK_S)
            self._expire()
            if time.monotonic() - measured_at >= MEASURE_EVERY_S:
                measured_at = time.monotonic()
                await self._measure()
            self._kick()

    def _expire(self) -> None:
        now = time.monotonic()
        for model, procs in self._idle.items():
            wanted = model in self._options.models or now - self._demand.get(model, 0.0) < self._options.idle_timeout_s
            for process in list(procs):
                if not process.alive:
                    procs.remove(process)
                    self._died(process)
                elif not wanted:
                    procs.remove(process)
                    log.info("claude_pool_expired", model=model)
                    self._spawn(process.aclose())
                else:
                    # Keep the stale-dir sweep of a sibling worker off a dir that is in use.
                    with contextlib.suppress(OSError):
                        os.utime(process.workdir)

    def _died(self, process: PooledClaude) -> None:
        self.died_idle += 1
        self._idle_deaths += 1
        log.warning("claude_pool_process_died", model=process.model, returncode=process.running.process.returncode,
                    stderr=process.running.process.stderr_tail()[-500:])
        if self._options.pause_on_deaths and self._idle_deaths >= MAX_IDLE_DEATHS:
            self._idle_deaths = 0
            self._paused_until = time.monotonic() + PAUSE_S
        self._spawn(process.aclose())

    async def _measure(self) -> None:
        idle = [p for procs in self._idle.values() for p in procs]
        if not idle:
            return
        sizes = await asyncio.to_thread(rss_by_group, {p.running.process.pid for p in idle})
        for process in idle:
            process.rss = (sizes or {}).get(process.running.process.pid) or None
        if idle and all(p.alive for p in idle):
            self._idle_deaths = 0

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- reporting
    def describe(self) -> dict[str, Any]:
        """The warm processes for /health."""
        idle = [p for procs in self._idle.values() for p in procs if p.alive]
        now = time.monotonic()
        measured = [p.rss for p in idle if p.rss]
        return {"processes": len(idle), "ready": sum(1 for p in idle if p.ready),
                "idle_pids": [p.running.process.pid for p in idle], "idle_by_model": {m: sum(1 for p in ps if p.alive) for m, ps in self._idle.items() if ps},
                "oldest_age_s": round(max((now - p.born for p in idle), default=0.0), 1),
                "rss_mb": sum(measured) // (1024 * 1024) if measured else None, "busy": self.busy,
                "served_warm": self.served, "cold_starts": self.cold, "restarts": self.died_idle,
                "paused": now < self._paused_until}

    def stats(self) -> dict[str, int]:
        """Counts for metrics."""
        idle = sum(1 for procs in self._idle.values() for p in procs if p.alive)
        ready = sum(1 for procs in self._idle.values() for p in procs if p.alive and p.ready)
        return {"processes_running": self.busy, "processes_idle": idle, "processes_warm": idle, "processes_ready": ready,
                "requests_active": self.busy, "restarts": self.died_idle, "served_warm": self.served,
                "cold_starts": self.cold}
