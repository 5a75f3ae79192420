"""Disconnects, timeouts, the concurrency cap and first-byte latency: no orphans, no leftovers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from tests.conftest import MakeClient, cli_records, scenario, wait_for
from tests.executors.test_contract import pid_alive
from tests.openapi.hooks import checked_session


def body(prompt: str, model: str = "copilot/gpt-5.4", stream: bool = True) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": prompt}]}





async def test_client_disconnect_kills_cli_group_and_removes_temp_dir(
    make_client: MakeClient, record_dir: Path, settings: Any
) -> None:
    for model in ("copilot/gpt-5.4", "claude/sonnet"):
        for path in record_dir.iterdir():
            path.unlink()
        client = await make_client()
        async with checked_session() as session:
            resp = await session.post(client.make_url("/v1/chat/completions"), json=body(scenario("hang_hard"), model))
            assert resp.status == 200
            await resp.content.readuntil(b"Hello")
            assert await wait_for(lambda: any(r.get("child_pid") for r in cli_records(record_dir)))
            (record,) = cli_records(record_dir)
            assert pid_alive(record["pid"]) and pid_alive(record["child_pid"])
            resp.close()  # the client goes away mid-answer
        assert await wait_for(lambda: not pid_alive(record["pid"]) and not pid_alive(record["child_pid"]), 2.0)
        base = Path(settings.temp_dir_base)
        assert await wait_for(lambda: list(base.iterdir()) == [], 2.0)


async def test_timeout_non_stream_is_504_and_cleans_up(make_client: MakeClient, record_dir: Path, settings: Any) -> None:
    client = await make_client(request_timeout_ms=800)
    started = time.monotonic()
    resp = await client.post("/v1/chat/completions", json=body(scenario("hang"), stream=False))
    assert resp.status == 504
    assert (await resp.json())["error"]["code"] == "timeout"
    assert time.monotonic() - started < 3
    (record,) = cli_records(record_dir)
    assert await wait_for(lambda: not pid_alive(record["pid"]) and not pid_alive(record["child_pid"]), 2.0)
    assert await wait_for(lambda: list(Path(settings.temp_dir_base).iterdir()) == [], 2.0)


async def test_timeout_mid_stream_is_an_in_stream_error(make_client: MakeClient, record_dir: Path) -> None:
    client = await make_client(request_timeout_ms=800)
    resp = await client.post("/v1/chat/completions", json=body(scenario("hang")))
    assert resp.status == 200
    raw = (await resp.read()).decode()
    assert '"code":"timeout"' in raw and raw.endswith("data: [DONE]\n\n")
    (record,) = cli_records(record_dir)
    assert await wait_for(lambda: not pid_alive(record["pid"]), 2.0)


async def test_first_chunk_reaches_client_before_cli_finishes(make_client: MakeClient, record_dir: Path) -> None:
    client = await make_client()
    async with checked_session() as session:
        started = time.monotonic()
        resp = await session.post(client.make_url("/v1/chat/completions"), json=body(scenario("slow", delay=0.5)))
        await resp.content.readuntil(b"Hello")
        first = time.monotonic() - started
        (record,) = cli_records(record_dir)
        cli_alive_at_first_byte = pid_alive(record["pid"])
        await resp.read()
        total = time.monotonic() - started
    assert cli_alive_at_first_byte
    assert first < total - 0.5  # the remaining chunks were still on their way


async def test_concurrency_cap_queues_instead_of_forking(make_client: MakeClient, record_dir: Path) -> None:
    client = await make_client(max_concurrent_clis=1)

    async def one() -> str:
        resp = await client.post("/v1/chat/completions", json=body(scenario("slow", delay=0.2), stream=False))
        assert resp.status == 200
        return str((await resp.json())["choices"][0]["message"]["content"])

    async def max_alive() -> int:
        peak = 0
        for _ in range(60):
            peak = max(peak, sum(pid_alive(r["pid"]) for r in cli_records(record_dir)))
            await asyncio.sleep(0.03)
        return peak

    results, peak = await asyncio.gather(asyncio.gather(one(), one(), one()), max_alive())
    assert results == ["Hello from mock."] * 3
    assert peak == 1


async def test_full_queue_is_503(make_client: MakeClient) -> None:
    client = await make_client(max_concurrent_clis=1, max_queued_requests=0)
    first = asyncio.ensure_future(client.post("/v1/chat/completions", json=body(scenario("slow", delay=0.3), stream=False)))
    await asyncio.sleep(0.3)
    resp = await client.post("/v1/chat/completions", json=body("hi", stream=False))
    assert resp.status == 503 and (await resp.json())["error"]["code"] == "server_busy"
    assert (await first).status == 200


async def test_other_requests_survive_a_crash(make_client: MakeClient) -> None:
    client = await make_client()

    async def ask(prompt: str) -> tuple[int, Any]:
        resp = await client.post("/v1/chat/completions", json=body(prompt, stream=False))
        return resp.status, await resp.json()

    results = await asyncio.gather(*(ask(scenario("crash") if i % 3 == 0 else "hi") for i in range(9)))
    for i, (status, payload) in enumerate(results):
        if i % 3 == 0:
            assert status == 503
        else:
            assert status == 200 and payload["choices"][0]["message"]["content"] == "Hello from mock."


async def test_silent_cli_gets_the_stream_started_with_keepalives(make_client: MakeClient) -> None:
    client = await make_client(keepalive_s=0.3)
    async with checked_session() as session:
        started = time.monotonic()
        resp = await session.post(client.make_url("/v1/chat/completions"), json=body(scenario("slow", delay=1.2, chunks=2)))
        assert resp.status == 200  # headers went out although the CLI had said nothing yet
        role = await resp.content.readuntil(b"\n\n")
        assert b'"role":"assistant"' in role and time.monotonic() - started < 1.2
        raw = role + await resp.read()
    text = raw.decode()
    assert text.count(": keep-alive") >= 2
    assert "Hello" in text and text.endswith("data: [DONE]\n\n")
