"""Stored responses for the Responses API: `previous_response_id`, GET, DELETE and input items.

`open_store(url, ttl_s, max_items)` picks the store from RESPONSES_STORE: `memory://` (this
process) or `redis://…` / `rediss://…` / `unix://…` (shared).
"""

from __future__ import annotations

from executors.envconfig import ConfigError
from server.responses_store.memory import MemoryStore
from server.responses_store.protocol import ResponseStore, StoredResponse, StoreUnreachable

__all__ = ["MemoryStore", "ResponseStore", "StoreUnreachable", "StoredResponse", "check_store_url", "open_store"]

REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


def check_store_url(url: str) -> None:
    """Raise ConfigError naming RESPONSES_STORE unless the URL names a store we have."""
    scheme, sep, _ = url.partition("://")
    if not sep or (scheme != "memory" and scheme not in REDIS_SCHEMES):
        raise ConfigError(
            "RESPONSES_STORE", f"expected memory:// or a Redis URL such as redis://localhost:6379/0, got {url!r}"
        )


def open_store(url: str, ttl_s: float, max_items: int) -> ResponseStore:
    """The store RESPONSES_STORE names (Redis connects on first use)."""
    check_store_url(url)
    if url.startswith("memory://"):
        return MemoryStore(ttl_s, max_items)
    # Imported here: the Redis client (with beartype) adds about 16 MB to every worker that loads it.
    from server.responses_store.redis import RedisStore

    return RedisStore(url, ttl_s)
