"""One CLI spawn at a time per event loop, requests' spawns before background ones."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class SpawnGate:
    """One spawn at a time; a background spawn waits while any request's spawn is pending."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._urgent = 0
        self._calm = asyncio.Event()  # set while no request waits to spawn
        self._calm.set()

    @asynccontextmanager
    async def hold(self, *, background: bool = False) -> AsyncIterator[None]:
        """Hold the gate for one spawn."""
        if background:
            await self._acquire_background()
        else:
            self._urgent += 1
            self._calm.clear()
            try:
                await self._lock.acquire()
            finally:
                self._urgent -= 1
                if not self._urgent:
                    self._calm.set()
        try:
            yield
        finally:
            self._lock.release()

    async def _acquire_background(self) -> None:
        while True:
            await self._calm.wait()
            await self._lock.acquire()
            if not self._urgent:
                return
            self._lock.release()  # a request arrived while this one queued: it goes first


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SpawnGate] = weakref.WeakKeyDictionary()


def spawn_gate() -> SpawnGate:
    """One gate per event loop (tests run many loops in one process)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = SpawnGate()
    return gate
