"""`python -m server` in the long-lived modes: warm processes per worker, nothing left after SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import FAKE_BIN, cli_records, scenario
from tests.executors.backend_helpers import FAKE_GITHUB_TOKEN, pid_alive, wait_until
from tests.openapi.hooks import checked_session
from tests.operations.conftest import BridgeProcess

StartBridge = Callable[..., BridgeProcess]
LONG_LIVED = {"SERVICE": "copilot,claude", "CLAUDE_CLI_PATH": str(FAKE_BIN / "claude"), "COPILOT_MODE": "headless",
              "CLAUDE_MODE": "pool", "CLAUDE_POOL_MODELS": "sonnet", "COPILOT_GITHUB_TOKEN": FAKE_GITHUB_TOKEN}


async def health(bridge: BridgeProcess) -> dict[str, Any]:
    async with checked_session() as session, session.get(f"{bridge.url}/health") as resp:
        return dict((await resp.json())["backends"])


async def warm(bridge: BridgeProcess) -> dict[str, Any]:
    for _ in range(300):
        backends = await health(bridge)
        server = backends["copilot"]["warm"]["server"]
        if server and server["warmed"] and backends["claude"]["warm"]["ready"] == 1:
            return backends
        await asyncio.sleep(0.05)
    raise AssertionError(f"not warm: {backends}")


def groups_alive(record_dir: Path) -> list[int]:
    """Every fake CLI process (and grandchild) still running."""
    pids = [p for r in cli_records(record_dir) for p in (r["pid"], r.get("child_pid")) if p]
    return [p for p in pids if pid_alive(p)]


async def test_sigterm_stops_the_warm_processes_and_removes_their_dirs(
    start_bridge: StartBridge, record_dir: Path, tmp_path: Path
) -> None:
    bridge = start_bridge(**LONG_LIVED, SHUTDOWN_GRACE="2")
    bridge.wait_ready()
    backends = await warm(bridge)
    server_pid = backends["copilot"]["warm"]["server"]["pid"]
    (pooled_pid,) = backends["claude"]["warm"]["idle_pids"]
    chat = {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": scenario("hang")}]}
    async with checked_session() as session, session.post(f"{bridge.url}/v1/chat/completions", json=chat) as resp:
        await resp.content.readuntil(b"Hello")  # a request in flight on the headless server
        bridge.proc.send_signal(signal.SIGTERM)
        body = await resp.read()
    assert b"server_shutting_down" in body and body.endswith(b"data: [DONE]\n\n")
    assert bridge.proc.wait(15) == 0
    await wait_until(lambda: groups_alive(record_dir) == [], 5)
    assert not pid_alive(server_pid) and not pid_alive(pooled_pid)
    assert list((tmp_path / "bridge-tmp").iterdir()) == []
    state = tmp_path / "home" / ".copilot" / "session-state"
    assert [p for p in state.iterdir() if not p.name.startswith(".")] == []


async def test_each_worker_has_its_own_warm_processes(start_bridge: StartBridge, record_dir: Path) -> None:
    bridge = start_bridge(**LONG_LIVED, WORKERS="2")
    bridge.wait_ready()
    servers: set[int] = set()
    for _ in range(100):  # new connections spread over the workers (SO_REUSEPORT)
        server = (await health(bridge))["copilot"]["warm"]["server"]
        if server:
            servers.add(server["pid"])
        if len(servers) == 2:
            break
        await asyncio.sleep(0.1)
    assert len(servers) == 2
    headless = [r for r in cli_records(record_dir) if r.get("mode") == "headless"]
    assert {r["pid"] for r in headless} == servers
    os.kill(bridge.proc.pid, signal.SIGTERM)
    assert bridge.proc.wait(20) == 0
    await wait_until(lambda: groups_alive(record_dir) == [], 5)
