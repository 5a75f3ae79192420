"""Stored responses in Redis (through coredis), so several bridge processes or machines share them.

One key per response, `copilot-bridge:response:<id>`, holding the record as JSON, with the TTL
as the key's expiry. Redis bounds memory itself (maxmemory with a volatile-* eviction policy).
"""

from __future__ import annotations

import json
from typing import Any

import coredis
from coredis.exceptions import RedisError

from server.responses_store.protocol import StoredResponse, StoreUnreachable

KEY_PREFIX = "copilot-bridge:response:"


class RedisStore:
    """Records as JSON strings with an expiry; reads check the owner."""

    def __init__(self, url: str, ttl_s: float) -> None:
        self._client: Any = coredis.Redis.from_url(url)
        self._ttl_s = max(1, round(ttl_s))

    async def put(self, record: StoredResponse) -> None:
        """Write the record with its expiry."""
        data = json.dumps(record.as_json(), ensure_ascii=False, separators=(",", ":"))
        try:
            await self._client.set(KEY_PREFIX + record.id, data, ex=self._ttl_s)
        except (RedisError, OSError) as exc:
            raise StoreUnreachable(str(exc)) from exc

    async def get(self, response_id: str, owner: str | None) -> StoredResponse | None:
        """The caller's record, if Redis still has it."""
        try:
            raw = await self._client.get(KEY_PREFIX + response_id)
        except (RedisError, OSError) as exc:
            raise StoreUnreachable(str(exc)) from exc
        if raw is None:
            return None
        record = StoredResponse.from_json(json.loads(raw))
        return record if record.owner == owner else None

    async def delete(self, response_id: str, owner: str | None) -> bool:
        """Remove the caller's record."""
        if await self.get(response_id, owner) is None:
            return False
        try:
            return bool(await self._client.delete([KEY_PREFIX + response_id]))
        except (RedisError, OSError) as exc:
            raise StoreUnreachable(str(exc)) from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        self._client.connection_pool.disconnect()
