"""WORKERS=N: one port, several processes, dead workers replaced, SIGTERM drains within the grace."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import cli_records, scenario
from tests.executors.test_contract import pid_alive
from tests.openapi.hooks import checked_session
from tests.operations.conftest import BridgeProcess

StartBridge = Callable[..., BridgeProcess]
pytestmark = pytest.mark.slow


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def worker_pids(url: str, want: int, timeout: float = 15.0) -> set[int]:
    """Worker pids seen over fresh connections until `want` distinct ones answered."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    async with checked_session(connector=aiohttp.TCPConnector(force_close=True)) as session:
        while len(seen) < want and time.monotonic() < deadline:
            try:
                async with session.get(f"{url}/v1/models") as resp:
                    assert resp.status == 200
                    seen.add(int(resp.headers["X-Bridge-Worker"]))
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    return seen


async def test_two_workers_answer_and_a_dead_one_is_replaced(start_bridge: StartBridge) -> None:
    bridge = start_bridge(WORKERS="2")
    bridge.wait_ready()
    pids = await worker_pids(bridge.url, want=2)
    assert len(pids) == 2 and all(parent_of(pid) == bridge.proc.pid for pid in pids)
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 15
    fresh: set[int] = set()
    while time.monotonic() < deadline and len(fresh - pids) < 1:
        fresh = await worker_pids(bridge.url, want=2, timeout=2)
    assert victim not in fresh and len(fresh) == 2, fresh
    assert all(parent_of(pid) == bridge.proc.pid for pid in fresh)
    bridge.proc.send_signal(signal.SIGTERM)
    assert bridge.proc.wait(10) == 0
    assert not any(pid_alive(pid) for pid in fresh)




async def _stream(session: aiohttp.ClientSession, url: str, prompt: str, first: asyncio.Event) -> bytes:
    chat = {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    body = b""
    try:
        async with session.post(f"{url}/v1/chat/completions", json=chat) as resp:
            assert resp.status == 200 and resp.headers["X-Request-Id"] and resp.headers["X-Bridge-Worker"]
            body = await resp.content.readuntil(b"\n\n")
            first.set()
            async for chunk in resp.content.iter_any():
                body += chunk
    except aiohttp.ClientPayloadError:
        pass  # cut off at the end of the grace
    return body


async def test_sigterm_finishes_short_streams_and_cuts_hung_ones_within_grace(
    start_bridge: StartBridge, record_dir: Path
) -> None:
    grace = 2.0
    bridge = start_bridge(WORKERS="2", SHUTDOWN_GRACE=str(grace), KILL_GRACE_MS="300")
    bridge.wait_ready()
    workers = await worker_pids(bridge.url, want=2)
    async with checked_session(connector=aiohttp.TCPConnector(force_close=True)) as session:
        started = [asyncio.Event(), asyncio.Event()]
        short = asyncio.create_task(_stream(session, bridge.url, scenario("slow", delay=0.3, chunks=4), started[0]))
        hung = asyncio.create_task(_stream(session, bridge.url, scenario("hang"), started[1]))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started)), 10)
        clis = [r for r in cli_records(record_dir) if r.get("pid")]
        assert len(clis) >= 2
        stopped_at = time.monotonic()
        bridge.proc.send_signal(signal.SIGTERM)
        short_body, hung_body = await asyncio.wait_for(asyncio.gather(short, hung), grace + 10)
        code = await asyncio.to_thread(bridge.proc.wait, grace + 10)
        took = time.monotonic() - stopped_at
    assert code == 0
    assert short_body.endswith(b"data: [DONE]\n\n")
    # The hung stream is ended cleanly: an in-stream error naming the shutdown, then [DONE].
    assert b'"code":"server_shutting_down"' in hung_body and hung_body.endswith(b"data: [DONE]\n\n")
    assert grace - 0.5 < took < grace + 4, took  # the parent's own SIGKILL would come at grace + 5.3
    assert not any(pid_alive(pid) for pid in workers)
    assert not any(pid_alive(r["pid"]) or pid_alive(r.get("child_pid") or r["pid"]) for r in cli_records(record_dir))


async def test_killed_parent_takes_its_workers_along(start_bridge: StartBridge) -> None:
    bridge = start_bridge(WORKERS="2")
    bridge.wait_ready()
    workers = await worker_pids(bridge.url, want=2)
    bridge.proc.kill()
    bridge.proc.wait(5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in workers):
        await asyncio.sleep(0.1)
    assert not any(pid_alive(pid) for pid in workers)


async def test_metrics_add_up_every_worker_whichever_answers_the_scrape(start_bridge: StartBridge) -> None:
    bridge = start_bridge(WORKERS="2")
    bridge.wait_ready()
    chat = {"model": "copilot/gpt-5.4", "messages": [{"role": "user", "content": scenario("ok")}]}
    served: list[int] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        while len(served) < 40 and (len(served) < 4 or len(set(served)) < 2):  # fresh connections spread
            async with session.post(f"{bridge.url}/v1/chat/completions", json=chat) as resp:
                assert resp.status == 200
                served.append(int(resp.headers["X-Bridge-Worker"]))
        assert len(set(served)) == 2, served  # both workers answered requests
        scraped_by: set[int] = set()
        deadline = time.monotonic() + 15
        while len(scraped_by) < 2 and time.monotonic() < deadline:
            async with session.get(f"{bridge.url}/metrics") as resp:
                assert resp.status == 200
                families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
            requests = [s for s in families["copilot_bridge_requests"].samples if s.name.endswith("_total")]
            durations = [s for s in families["copilot_bridge_request_duration_seconds"].samples if s.name.endswith("_count")]
            counted = (sum(s.value for s in requests), sum(s.value for s in durations))
            # A request is counted just after its answer went out: a scrape by the other worker may
            # come first, so a count may lag, but never exceeds what was served.
            assert counted[0] <= len(served) and counted[1] <= len(served)
            if counted == (len(served), len(served)):  # every worker's requests, in this worker's answer
                scraped_by.add(int(resp.headers["X-Bridge-Worker"]))
            running = [s for s in families["copilot_bridge_cli_processes"].samples if s.labels["state"] == "running"]
            assert len(running) == 1 and 0 <= running[0].value <= 2  # one gauge summed over the live workers
        assert len(scraped_by) == 2
        # Once every CLI has exited (answers go out first), the gauges written each second say so.
        deadline = time.monotonic() + 10
        while running[0].value != 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            async with session.get(f"{bridge.url}/metrics") as resp:
                families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
            running = [s for s in families["copilot_bridge_cli_processes"].samples if s.labels["state"] == "running"]
        assert running[0].value == 0
    bridge.proc.send_signal(signal.SIGTERM)
    assert bridge.proc.wait(10) == 0
