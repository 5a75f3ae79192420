"""What one CLI run holds (a CLI slot, a temp dir, the process) and how it gives them back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path

from executors.background import Background, run_jobs
from executors.cli.running import RunningCli
from executors.slots import CliSlots
from tempdirs import new_request_dir, remove_request_dir


class RunLease:
    """A slot, then a temp dir, then a process; released in reverse order, whatever happens.

    After a complete answer `settle()` runs in the background: the CLI exits on its own, the
    slot is given back once the process is gone, its files are removed in a batch off the loop.
    After a failure, a timeout or a gone client, `release()` stops the CLI and removes its files
    before the error travels on.
    """

    def __init__(self, slots: CliSlots, background: Background) -> None:
        self._slots = slots
        self._background = background
        self._slot: int | None = None
        self.workdir: Path | None = None
        self.running: RunningCli | None = None

    async def open(self, backend: str, temp_base: Path) -> Path:
        """Take a CLI slot (waiting in the queue), then make the run's temp dir."""
        self._slot = await self._slots.acquire(backend)
        self.workdir = new_request_dir(temp_base)
        return self.workdir

    async def settle(self) -> None:
        """After a complete answer: let the CLI exit on its own, then release the rest in the background."""
        try:
            if self.running is not None:
                await self.running.settle()
        finally:
            await self.release(wait_for_files=False)

    async def release(self, *, wait_for_files: bool = True) -> None:
        """Stop the process (if still running), remove the run's files, give the slot back."""
        try:
            if self.running is not None:
                await self.running.close()
        finally:
            try:
                jobs = self._file_jobs()
                if jobs and wait_for_files:
                    await asyncio.shield(asyncio.to_thread(run_jobs, jobs))
                for job in jobs if not wait_for_files else ():
                    self._background.run_blocking(job)
            finally:
                if self._slot is not None:
                    token, self._slot = self._slot, None
                    self._slots.release(token)

    def _file_jobs(self) -> list[Callable[[], None]]:
        jobs: list[Callable[[], None]] = []
        if self.running is not None and self.running.cleanup_files is not None:
            jobs.append(self.running.cleanup_files)
        if self.workdir is not None:
            jobs.append(partial(remove_request_dir, self.workdir))
            self.workdir = None
        return jobs
