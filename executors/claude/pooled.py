"""One claude started ahead of its request: its process, its own temp dir and its CLI slot."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from executors.cli.running import RunningCli
from executors.errors import CliOutputError
from executors.slots import CliSlots
from tempdirs import RequestTempDir


class PooledClaude:
    """One claude started ahead of its request, in its own temp dir, holding a CLI slot."""

    def __init__(self, model: str, running: RunningCli, tempdir: RequestTempDir, workdir: Path,
                 slots: CliSlots, token: int) -> None:
        self.model = model
        self.running = running
        self.workdir = workdir
        self.born = time.monotonic()
        self.rss: int | None = None
        self._tempdir = tempdir
        self._slots = slots
        self._token = token
        self._closed = False
        self.ready = False  # it answered the ready ping: started up, waiting for its request
        self._probe = asyncio.get_running_loop().create_task(self._await_ready())

    async def _await_ready(self) -> None:
        try:
            line = await self.running.process.readline()
        except (CliOutputError, OSError):  # an unreadable first line: never marked ready
            return
        self.ready = b'"control_response"' in line

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.running.process.returncode is None

    def claim(self) -> None:
        """Its slot now belongs to the request it serves."""
        self._slots.claim(self._token)

    async def begin(self) -> RunningCli:
        """Its stdout now belongs to the request: the ready probe stops reading first."""
        self._probe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._probe
        return self.running

    async def aclose(self) -> None:
        """Stop it, remove its dir, give its slot back."""
        if self._closed:
            return
        self._closed = True
        self._probe.cancel()
        try:
            await self.running.close()
            await self._tempdir.__aexit__(None, None, None)
        finally:
            self._slots.release(self._token)


class Seat:
    """A reservation between `reserve` and the process it pays for."""

    def __init__(self) -> None:
        self.process: PooledClaude | None = None
        self.reclaimed = False
