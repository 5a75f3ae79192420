"""Stored responses in this process's memory: a TTL per record and a cap on their number."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from server.responses_store.protocol import StoredResponse


class MemoryStore:
    """Insertion-ordered records; the oldest go first when `max_items` is reached."""

    def __init__(self, ttl_s: float, max_items: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._max = max_items
        self._clock = clock
        self._records: OrderedDict[str, tuple[float, StoredResponse]] = OrderedDict()

    def __len__(self) -> int:
        self._expire()
        return len(self._records)

    async def put(self, record: StoredResponse) -> None:
        """Keep `record` until its TTL; evict the oldest beyond the cap."""
        self._expire()
        self._records.pop(record.id, None)
        self._records[record.id] = (self._clock() + self._ttl_s, record)
        while len(self._records) > self._max:
            self._records.popitem(last=False)

    async def get(self, response_id: str, owner: str | None) -> StoredResponse | None:
        """The caller's record, if it is still there."""
        self._expire()
        entry = self._records.get(response_id)
        if entry is None or entry[1].owner != owner:
            return None
        return entry[1]

    async def delete(self, response_id: str, owner: str | None) -> bool:
        """Remove the caller's record."""
        if await self.get(response_id, owner) is None:
            return False
        del self._records[response_id]
        return True

    async def aclose(self) -> None:
        """Nothing to release."""
        self._records.clear()

    def _expire(self) -> None:
        # Records are kept in insertion order and share one TTL, so expired ones are at the front.
        now = self._clock()
        while self._records:
            first = next(iter(self._records.values()))
            if first[0] > now:
                break
            self._records.popitem(last=False)
