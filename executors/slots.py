"""A cap on concurrently running CLI processes; extra requests wait in a bounded queue.

Requests hold a slot while they run. Warm processes (an idle pooled `claude`, the headless
`copilot` server) hold a *reservation*: a slot taken only when one is free and nobody waits, and
given back (`reclaim`) as soon as a request has to wait. So warm processes count toward the cap
but never delay a request.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from executors.errors import BackendBusy

Reclaim = Callable[[], None]  # asked to give a reservation back; it calls `release` (now or soon)


class CliSlots:
    """At most `running` slots held at once and at most `queued` requests waiting (all CLI backends share it)."""

    def __init__(self, running: int, queued: int) -> None:
        self.capacity = running
        self._queued_limit = queued
        self._held = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._reserved: dict[int, Reclaim] = {}  # token → how to get it back, oldest first
        self._reclaiming: set[int] = set()
        self._tokens = itertools.count(1)

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot."""
        return len(self._waiters)

    @property
    def in_use(self) -> int:
        """Slots held by requests."""
        return self._held - len(self._reserved)

    @property
    def reserved(self) -> int:
        """Slots held by warm processes."""
        return len(self._reserved)

    @asynccontextmanager
    async def slot(self, backend: str = "cli") -> AsyncIterator[None]:
        """Hold one slot for the body of the `async with`."""
        token = await self.acquire(backend)
        try:
            yield
        finally:
            self.release(token)

    async def acquire(self, backend: str = "cli") -> int:
        """Wait for a slot (reclaiming a warm process's if none is free); returns its token."""
        if self._held < self.capacity and not self._waiters:
            self._held += 1
            return next(self._tokens)
        # A slot a warm process holds is as good as free: each reservation admits one more waiter.
        if len(self._waiters) >= self._queued_limit + len(self._reserved) - len(self._reclaiming):
            raise BackendBusy(backend, "too many requests are waiting for a CLI slot; retry shortly")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._reclaim_one()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._hand_on()  # it was handed a slot just as it gave up: pass it on
            else:
                self._waiters.remove(waiter)
            raise
        return next(self._tokens)

    def release(self, token: int) -> None:
        """Give a slot (or a reservation) back; the first waiter gets it."""
        self._reserved.pop(token, None)
        self._reclaiming.discard(token)
        self._hand_on()

    def reserve(self, reclaim: Reclaim) -> int | None:
        """A slot for a warm process, only if one is free and no request waits; else None."""
        if self._held >= self.capacity or self._waiters:
            return None
        self._held += 1
        token = next(self._tokens)
        self._reserved[token] = reclaim
        return token

    def claim(self, token: int) -> None:
        """A reservation becomes a request's slot: the warm process now serves a request."""
        self._reserved.pop(token, None)
        self._reclaiming.discard(token)

    def _hand_on(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on; _held stays the same
                return
        self._held -= 1

    def _reclaim_one(self) -> None:
        # Ask the oldest reservation not already giving its slot back for one per waiter.
        pending = len(self._reclaiming)
        if pending >= len(self._waiters):
            return
        for token, reclaim in list(self._reserved.items()):
            if token not in self._reclaiming:
                self._reclaiming.add(token)
                reclaim()
                return
