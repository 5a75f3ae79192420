"""Work that finishes after the answer went out: a CLI's exit, its files' removal, log records.

The answer does not wait for it, but nothing is dropped either: tasks are held until done and
`drain()` waits for all of them (the server calls it when it stops). Blocking file-system work
goes to a worker thread in batches gathered over BATCH_WINDOW_S: one thread hand-off carries
the clean-up and request-log records of many requests instead of a hand-off each (a hand-off
wakes a thread that then contends with the event loop for the GIL).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)
BATCH_WINDOW_S = 1.0  # blocking jobs wait this long for company


def run_jobs(jobs: list[Callable[[], None]]) -> None:
    """Run blocking clean-up jobs one after another; a failing one is logged and the rest still run."""
    for job in jobs:
        try:
            job()
        except Exception:  # clean-up is best effort; one failure must not skip the rest
            log.exception("background_job_failed")


class Background:
    """The server's background work: tasks it must not lose, and batched blocking jobs."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._files: list[Callable[[], None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()  # set by drain(): stopping, so no point waiting for company

    @property
    def pending(self) -> int:
        """Tasks and file jobs not finished yet."""
        return len(self._tasks) + len(self._files) + (self._flusher is not None)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as a task that `drain()` waits for; its errors are logged."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def run_blocking(self, job: Callable[[], None]) -> None:
        """Run a blocking (file-system) job on a worker thread soon, batched with others."""
        self._files.append(job)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())

    async def drain(self) -> None:
        """Wait until every task and file job has finished (new ones spawned meanwhile too)."""
        self._hurry.set()
        while self._tasks or self._flusher is not None:
            waiting: set[asyncio.Task[None]] = set(self._tasks)
            if self._flusher is not None:
                waiting.add(self._flusher)
            await asyncio.wait(waiting)

    async def _flush(self) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hurry.wait(), BATCH_WINDOW_S)
            while self._files:
                jobs, self._files = self._files, []
                # Shielded: the jobs run to the end even when the waiting task is cancelled.
                await asyncio.shield(asyncio.to_thread(run_jobs, jobs))
        finally:
            self._flusher = None

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background_task_failed", exc_info=task.exception())
