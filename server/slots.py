"""A cap on concurrently running CLIs; extra requests wait in a bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.errors import ServerBusy


class CliSlots:
    """At most `running` CLIs at once and at most `queued` requests waiting for one."""

    def __init__(self, running: int, queued: int) -> None:
        self._semaphore = asyncio.Semaphore(running)
        self._queued_limit = queued
        self.waiting = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the body of the `async with`."""
        if self._semaphore.locked() and self.waiting >= self._queued_limit:
            raise ServerBusy("too many requests are waiting for a CLI slot; retry shortly", headers={"Retry-After": "1"})
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()
