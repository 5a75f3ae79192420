"""Stored responses: the memory store's TTL and cap, settings, and one store shared through Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import coredis
import pytest

from server.middleware.auth import key_fingerprint
from server.responses_store import MemoryStore, StoredResponse
from server.responses_store.redis import KEY_PREFIX, RedisStore
from server.settings import ConfigError, Settings
from tests.conftest import MakeClient
from tests.operations.conftest import free_port

KEY_A, KEY_B = "sk-store-a-0123456789", "sk-store-b-0123456789"


def record(rid: str, owner: str | None = "alice") -> StoredResponse:
    body = {"id": rid, "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": rid}]}]}
    return StoredResponse(rid, owner, body, ({"id": "msg_in", "type": "message", "role": "user", "content": []},))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_store_ttl_cap_and_owner() -> None:
    clock = Clock()
    store = MemoryStore(ttl_s=60, max_items=3, clock=clock)
    for i in range(4):
        await store.put(record(f"r{i}"))
        clock.now += 10
    assert len(store) == 3 and await store.get("r0", "alice") is None  # the oldest went at the cap
    assert (await store.get("r1", "alice")) == record("r1")
    assert await store.get("r1", "bob") is None and await store.get("r1", None) is None
    assert not await store.delete("r1", "bob") and await store.delete("r1", "alice")
    assert await store.get("r1", "alice") is None
    clock.now += 45  # now 1085: r2 (stored at 1020) expired at 1080, r3 (1030) lives until 1090
    assert await store.get("r2", "alice") is None and await store.get("r3", "alice") is not None
    clock.now += 100
    assert len(store) == 0


def test_conversation_is_context_input_output() -> None:
    stored = StoredResponse("r", None, {"output": [{"id": "o"}]}, ({"id": "i"},), ({"id": "c1"}, {"id": "c2"}))
    assert [i["id"] for i in stored.conversation()] == ["c1", "c2", "i", "o"]
    assert StoredResponse.from_json(stored.as_json()) == stored


@pytest.mark.parametrize(("env", "key"), [
    ({"RESPONSES_STORE": "mongodb://x"}, "RESPONSES_STORE"),
    ({"RESPONSES_STORE": "redis"}, "RESPONSES_STORE"),
    ({"RESPONSES_TTL": "0"}, "RESPONSES_TTL"),
    ({"RESPONSES_MAX": "lots"}, "RESPONSES_MAX"),
])
def test_bad_settings_name_the_variable(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.key == key and str(caught.value).startswith(key)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Any]:
    client: Any = coredis.Redis.from_url(redis_url)
    await client.flushall()
    yield client
    client.connection_pool.disconnect()


async def test_redis_store_keeps_json_with_the_ttl(redis_url: str, redis: Any) -> None:
    store = RedisStore(redis_url, ttl_s=120)
    try:
        await store.put(record("resp_1"))
        assert await store.get("resp_1", "alice") == record("resp_1")
        assert await store.get("resp_1", "bob") is None
        assert 110 <= await redis.ttl(KEY_PREFIX + "resp_1") <= 120
        assert not await store.delete("resp_1", "bob") and await store.get("resp_1", "alice") is not None
        assert await store.delete("resp_1", "alice") and await redis.exists([KEY_PREFIX + "resp_1"]) == 0
    finally:
        await store.aclose()


async def test_two_apps_share_responses_through_redis(make_client: MakeClient, redis_url: str, redis: Any) -> None:
    settings = {"responses_store": redis_url, "api_keys": (KEY_A, KEY_B), "services": ("copilot",)}
    first, second = await make_client(**settings), await make_client(**settings)
    a, b = {"Authorization": f"Bearer {KEY_A}"}, {"Authorization": f"Bearer {KEY_B}"}
    resp = await first.post("/v1/responses", headers=a, json={"model": "copilot/gpt-5.4", "input": "Hi [[fake:reply=First.]]"})
    created = await resp.json()
    assert await (await second.get(f"/v1/responses/{created['id']}", headers=a)).json() == created
    items = await (await second.get(f"/v1/responses/{created['id']}/input_items", headers=a)).json()
    assert items["data"][0]["content"][0]["text"] == "Hi [[fake:reply=First.]]"
    follow = await second.post("/v1/responses", headers=a, json={
        "model": "copilot/gpt-5.4", "previous_response_id": created["id"], "input": "And? [[fake:reply=Second.]]"})
    assert (await follow.json())["output"][0]["content"][0]["text"] == "Second."
    assert (await second.get(f"/v1/responses/{created['id']}", headers=b)).status == 404  # another key
    assert (await second.delete(f"/v1/responses/{created['id']}", headers=a)).status == 200
    assert (await first.get(f"/v1/responses/{created['id']}", headers=a)).status == 404  # gone for both
    stored = [await redis.get(k) for k in await redis.keys("*")]
    assert len(stored) == 1 and all(KEY_A.encode() not in v for v in stored)
    assert key_fingerprint(KEY_A).encode() in stored[0]


async def test_memory_store_is_per_app(make_client: MakeClient) -> None:
    # The control for the Redis test: without a shared store another app knows nothing.
    first, second = await make_client(services=("copilot",)), await make_client(services=("copilot",))
    created = await (await first.post("/v1/responses", json={"model": "copilot/gpt-5.4", "input": "hi"})).json()
    assert (await first.get(f"/v1/responses/{created['id']}")).status == 200
    assert (await second.get(f"/v1/responses/{created['id']}")).status == 404


async def test_unreachable_redis_answers_but_cannot_read_back(make_client: MakeClient) -> None:
    client = await make_client(responses_store=f"redis://127.0.0.1:{free_port()}/0", services=("copilot",))
    resp = await client.post("/v1/responses", json={"model": "copilot/gpt-5.4", "input": "Hi [[fake:reply=Still here.]]"})
    assert resp.status == 200 and (await resp.json())["output"][0]["content"][0]["text"] == "Still here."
    resp = await client.get("/v1/responses/resp_any")
    assert resp.status == 503 and (await resp.json())["error"]["code"] == "store_unavailable"
