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

    @asynccontextmanager
    async def slot(self, backend: str = "cli") -> AsyncIterator[None]:
        """Hold one slot for the body of the `async with`."""
        if self._semaphore.locked() and self.waiting >= self._queued_limit:
            raise BackendBusy(backend, "too many requests are waiting for a CLI slot; retry shortly")
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1
            self._semaphore.release()
