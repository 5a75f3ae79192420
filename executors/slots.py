"""A cap on concurrently running CLI processes; extra requests wait in a bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from executors.errors import BackendBusy


class CliSlots:
    """At most `running` CLIs at once and at most `queued` requests waiting for one (all CLI backends share it)."""

    def __init__(self, running: int, queued: int) -> None:
        self.capacity = running
        self._semaphore = asyncio.Semaphore(running)
        self._queued_limit = queued
        self.waiting = 0
        self.in_use = 0

    async def acquire(self, backend: str = "cli") -> None:
        """Wait for a free slot (BackendBusy when the queue is full); `release()` gives it back."""
        if self._semaphore.locked() and self.waiting >= self._queued_limit:
            raise BackendBusy(backend, "too many requests are waiting for a CLI slot; retry shortly")
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        self.in_use += 1

    def release(self) -> None:
        """Give back a slot taken with `acquire()` (from any task)."""
        self.in_use -= 1
        self._semaphore.release()

    @asynccontextmanager
    async def slot(self, backend: str = "cli") -> AsyncIterator[None]:
        """Hold one slot for the body of the `async with`."""
        await self.acquire(backend)
        try:
            yield
        finally:
            self.release()
