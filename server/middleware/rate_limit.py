"""RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW per API key (or client address), via `limits`.

The storage is in process memory by default; a redis URI makes every bridge process that points
at it share one limit.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string

from executors.envconfig import ConfigError
from server.keys import FACTS, RATE_HEADERS, SETTINGS
from server.middleware import Handler
from server.protocol.errors import RateLimited
from server.settings import Settings

log = structlog.get_logger(__name__)
EXEMPT_PATHS = frozenset({"/health"})
KEY_NAMESPACE = "copilot-bridge"


def async_storage_uri(uri: str) -> str:
    """`redis://h:p/0` → `async+redis://h:p/0`; `limits` picks async storages by that prefix."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise ConfigError("RATE_LIMIT_STORAGE", f"expected a URI such as memory:// or redis://host:6379/0, got {uri!r}")
    full = scheme if scheme.startswith("async+") else f"async+{scheme}"
    return f"{full}://{rest}"


def check_storage_uri(uri: str) -> None:
    """Raise ConfigError naming RATE_LIMIT_STORAGE unless `limits` has an async storage for it."""
    try:
        storage_from_string(async_storage_uri(uri))  # builds a client object; connects on first use
    except (ConfigurationError, ValueError) as exc:
        raise ConfigError("RATE_LIMIT_STORAGE", f"unsupported storage {uri.partition('://')[0]!r}: {exc}") from None


def window_item(max_requests: int, window_ms: int) -> RateLimitItem:
    """The limit as a `limits` item; windows under a second round up to whole seconds."""
    return RateLimitItemPerSecond(max_requests, multiples=max(1, math.ceil(window_ms / 1000)))


def openai_duration(seconds: float) -> str:
    """Durations the way OpenAI writes them in x-ratelimit-reset-*: 250ms, 42s, 6m0s."""
    if seconds < 1:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one request may proceed, and the headers that describe the window."""

    allowed: bool
    headers: Mapping[str, str]
    retry_after_s: int


class RequestLimiter:
    """A moving-window limiter over one storage; `hit()` counts a request and decides."""

    def __init__(self, storage_uri: str, max_requests: int, window_ms: int) -> None:
        self.storage: Any = storage_from_string(async_storage_uri(storage_uri), wrap_exceptions=True)
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._item = window_item(max_requests, window_ms)
        self.window_s = self._item.get_expiry()

    async def hit(self, identity: str) -> Decision:
        """Count one request for `identity`; raises StorageError when the store is unreachable."""
        allowed = await self._limiter.hit(self._item, KEY_NAMESPACE, identity)
        stats = await self._limiter.get_window_stats(self._item, KEY_NAMESPACE, identity)
        reset_in = max(0.0, stats.reset_time - time.time())
        headers = {
            "x-ratelimit-limit-requests": str(self._item.amount),
            "x-ratelimit-remaining-requests": str(max(0, stats.remaining)),
            "x-ratelimit-reset-requests": openai_duration(reset_in),
        }
        return Decision(allowed, headers, max(1, math.ceil(reset_in)))

    async def close(self) -> None:
        """Release the storage: the memory store's expiry task, or the redis connection pool."""
        timer = getattr(self.storage, "timer", None)
        if isinstance(timer, asyncio.Task):
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()


LIMITER = web.AppKey("rate_limiter", RequestLimiter)


async def rate_limiter_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the limiter's storage for the app's lifetime (nothing when RATE_LIMIT_MAX is 0)."""
    settings: Settings = app[SETTINGS]
    if settings.rate_limit_max <= 0:
        yield
        return
    limiter = RequestLimiter(settings.rate_limit_storage, settings.rate_limit_max, settings.rate_limit_window_ms)
    if not await limiter.storage.check():
        log.warning("rate_limit_storage_unreachable", scheme=settings.rate_limit_storage.partition("://")[0])
    app[LIMITER] = limiter
    try:
        yield
    finally:
        await limiter.close()


@web.middleware
async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Raise RateLimited (429 with Retry-After) once a key or address used up its window."""
    limiter = request.app.get(LIMITER)
    if limiter is None or request.path in EXEMPT_PATHS or request.method == "OPTIONS":
        return await handler(request)
    key_id = request[FACTS].api_key_id
    identity = f"key:{key_id}" if key_id else f"addr:{request.remote or 'unknown'}"
    try:
        decision = await limiter.hit(identity)
    except StorageError as exc:
        # A limiter outage should not take the API down with it: serve, and say so loudly.
        log.error("rate_limit_storage_error", error=type(exc.storage_error).__name__)
        return await handler(request)
    request[RATE_HEADERS] = dict(decision.headers)
    if not decision.allowed:
        raise RateLimited(
            f"rate limit reached: {decision.headers['x-ratelimit-limit-requests']} requests per "
            f"{openai_duration(limiter.window_s)}; retry after {decision.retry_after_s}s",
            headers={**decision.headers, "Retry-After": str(decision.retry_after_s)},
        )
    return await handler(request)

