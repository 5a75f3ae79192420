"""Rate limits: per key or address, OpenAI's 429 and headers, and one limit shared through redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import coredis
import pytest
from aiohttp.test_utils import TestClient

from server.middleware.auth import key_fingerprint
from tests.conftest import MakeClient, scenario

KEY_A, KEY_B = "sk-limit-a-0123456789", "sk-limit-b-0123456789"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def statuses(client: TestClient, n: int, headers: dict[str, str] | None = None) -> list[int]:
    return [(await client.get("/v1/models", headers=headers)).status for _ in range(n)]


async def test_limit_reached_is_openai_429_with_headers(make_client: MakeClient) -> None:
    client = await make_client(rate_limit_max=3, rate_limit_window_ms=60_000, services=("copilot",))
    remaining = []
    for _ in range(3):
        resp = await client.get("/v1/models")
        assert resp.status == 200
        assert resp.headers["x-ratelimit-limit-requests"] == "3"
        remaining.append(int(resp.headers["x-ratelimit-remaining-requests"]))
        assert resp.headers["x-ratelimit-reset-requests"].endswith("s")
    assert remaining == [2, 1, 0]
    resp = await client.get("/v1/models")
    assert resp.status == 429
    error = (await resp.json())["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert 55 <= int(resp.headers["Retry-After"]) <= 60
    assert resp.headers["x-ratelimit-remaining-requests"] == "0"
    assert resp.headers["X-Request-Id"]
    assert [(await client.get("/health")).status != 429 for _ in range(5)] == [True] * 5


async def test_each_key_has_its_own_budget(make_client: MakeClient) -> None:
    client = await make_client(rate_limit_max=2, api_keys=(KEY_A, KEY_B), services=("copilot",))
    assert await statuses(client, 3, bearer(KEY_A)) == [200, 200, 429]
    assert await statuses(client, 3, {"x-api-key": KEY_B}) == [200, 200, 429]
    assert await statuses(client, 1, bearer("sk-not-a-key")) == [401]  # refused before it is counted


async def test_window_expires(make_client: MakeClient) -> None:
    client = await make_client(rate_limit_max=2, rate_limit_window_ms=1000, services=("copilot",))
    assert await statuses(client, 3) == [200, 200, 429]
    await asyncio.sleep(1.1)
    assert await statuses(client, 1) == [200]


async def test_streamed_responses_carry_the_headers(make_client: MakeClient) -> None:
    client = await make_client(rate_limit_max=5, services=("copilot",))
    body = {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": scenario("ok")}]}
    resp = await client.post("/v1/chat/completions", json=body)
    assert resp.status == 200 and (await resp.read()).endswith(b"data: [DONE]\n\n")
    assert resp.headers["x-ratelimit-remaining-requests"] == "4"
    assert resp.headers["X-Request-Id"]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[coredis.Redis[bytes]]:
    client: coredis.Redis[bytes] = coredis.Redis.from_url(redis_url)
    await client.flushall()
    yield client
    client.connection_pool.disconnect()


async def test_two_apps_share_one_limit_through_redis(make_client: MakeClient, redis_url: str, redis: coredis.Redis[bytes]) -> None:
    settings = {"rate_limit_max": 5, "rate_limit_window_ms": 60_000, "api_keys": (KEY_A,), "services": ("copilot",)}
    first = await make_client(rate_limit_storage=redis_url, **settings)
    second = await make_client(rate_limit_storage=redis_url, **settings)
    results = []
    for i in range(10):
        resp = await (first, second)[i % 2].get("/v1/models", headers=bearer(KEY_A))
        results.append((resp.status, resp.headers.get("x-ratelimit-remaining-requests")))
    assert results[:5] == [(200, str(n)) for n in (4, 3, 2, 1, 0)]
    assert [status for status, _ in results[5:]] == [429] * 5
    keys = [k.decode() for k in await redis.keys("*")]
    assert keys and all(KEY_A not in k for k in keys)
    assert any(key_fingerprint(KEY_A) in k for k in keys)


async def test_memory_storage_is_per_process(make_client: MakeClient) -> None:
    # The control for the redis test: without a shared store each app counts on its own.
    first = await make_client(rate_limit_max=2, services=("copilot",))
    second = await make_client(rate_limit_max=2, services=("copilot",))
    assert await statuses(first, 2) + await statuses(second, 2) == [200] * 4
    assert await statuses(first, 1) + await statuses(second, 1) == [429, 429]


async def test_unreachable_redis_fails_open(make_client: MakeClient) -> None:
    from tests.operations.conftest import free_port

    client = await make_client(rate_limit_max=1, rate_limit_storage=f"redis://127.0.0.1:{free_port()}/0",
                               services=("copilot",))
    started = time.monotonic()
    assert await statuses(client, 3) == [200, 200, 200]
    assert time.monotonic() - started < 5
