"""`python -m server` as an operator runs it: exposure refusal, files it writes, graceful SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.conftest import scenario
from tests.openapi.hooks import checked_session
from tests.operations.conftest import PROJECT_ROOT, BridgeProcess

StartBridge = Callable[..., BridgeProcess]


def run_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "API_KEYS", "ALLOW_PUBLIC_WITHOUT_AUTH")}
    env = {**clean, "PYTHONPATH": str(PROJECT_ROOT), "LOG_DIR": str(tmp_path / "logs"), **env}
    return subprocess.run([sys.executable, "-m", "server"], check=False, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)


def test_public_bind_without_key_refuses_to_start(tmp_path: Path) -> None:
    result = run_main(tmp_path, HOST="0.0.0.0", PORT="0")
    assert result.returncode == 2
    assert "API_KEY" in result.stderr and "ALLOW_PUBLIC_WITHOUT_AUTH" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_rate_limit_storage_refuses_to_start(tmp_path: Path) -> None:
    result = run_main(tmp_path, RATE_LIMIT_MAX="5", RATE_LIMIT_STORAGE="carrier-pigeon://coop")
    assert result.returncode == 2 and result.stderr.startswith("configuration error: RATE_LIMIT_STORAGE")


async def test_public_bind_with_opt_out_serves(start_bridge: StartBridge) -> None:
    bridge = start_bridge(HOST="0.0.0.0", ALLOW_PUBLIC_WITHOUT_AUTH="true")
    bridge.wait_ready()
    async with checked_session() as session, session.get(f"{bridge.url}/v1/models") as resp:
        assert resp.status == 200


async def test_log_files_have_json_and_no_keys(start_bridge: StartBridge) -> None:
    key = "sk-process-key-0123456789abcdef"
    bridge = start_bridge(API_KEY=key, LOG_LEVEL="info")
    bridge.wait_ready()
    chat = {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": scenario("ok")}]}
    async with checked_session() as session:
        for headers in ({"Authorization": f"Bearer {key}"}, {"x-api-key": key}, {"x-api-key": key[:-1]}):
            async with session.post(f"{bridge.url}/v1/chat/completions", json=chat, headers=headers) as resp:
                await resp.read()
    bridge.proc.send_signal(signal.SIGTERM)
    assert bridge.proc.wait(10) == 0
    combined = [json.loads(line) for line in (bridge.log_dir / "combined.log").read_text().splitlines()]
    finished = [e for e in combined if e["event"] == "request_finished"]
    assert [e["status"] for e in finished] == [200, 200, 401]
    assert all(e["request_id"] and e["timestamp"] for e in finished)
    errors = [json.loads(line) for line in (bridge.log_dir / "error.log").read_text().splitlines()]
    assert all(e["level"] in ("warning", "error", "critical") for e in errors)
    everything = "".join(p.read_text() for p in bridge.log_dir.rglob("*") if p.is_file()) + bridge.stderr
    assert key not in everything and key[:-1] not in everything
    assert len(list((bridge.log_dir / "requests").rglob("*.json"))) == 3


async def test_sigterm_lets_a_short_stream_finish(start_bridge: StartBridge) -> None:
    bridge = start_bridge(SHUTDOWN_GRACE="10")
    bridge.wait_ready()
    chat = {"model": "copilot/gpt-5.4", "stream": True,
            "messages": [{"role": "user", "content": scenario("slow", delay=0.4, chunks=4)}]}
    async with checked_session() as session:
        async with session.post(f"{bridge.url}/v1/chat/completions", json=chat) as resp:
            assert resp.status == 200 and resp.headers["X-Request-Id"]
            await resp.content.readuntil(b"\n\n")
            bridge.proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            body = await resp.read()
        assert body.endswith(b"data: [DONE]\n\n")
        assert bridge.proc.wait(10) == 0
        assert time.monotonic() - started < 8  # not the 10 s grace: it exits once the stream is done
        try:
            await session.get(f"{bridge.url}/health")
            raise AssertionError("still accepting connections")
        except aiohttp.ClientConnectionError:
            pass


async def test_answers_go_out_before_the_cli_exits_and_sigterm_waits_for_its_cleanup(
    start_bridge: StartBridge, tmp_path: Path, record_dir: Path
) -> None:
    bridge = start_bridge(FAKE_CLI_LINGER="1.5")  # the CLI stays 1.5 s after its result line
    bridge.wait_ready()
    chat = {"model": "copilot/gpt-5.4", "messages": [{"role": "user", "content": scenario("ok")}]}
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.post(f"{bridge.url}/v1/chat/completions", json=chat) as resp:
            assert resp.status == 200
            assert (await resp.json())["choices"][0]["message"]["content"] == "Hello from mock."
        assert time.monotonic() - started < 1.5 + 3  # not bound to the linger (spawn included)
    records = [json.loads(p.read_text()) for p in record_dir.glob("*.json")]
    assert len(records) == 1 and not records[0]["finished"]  # answered; the CLI is still there
    bridge.proc.send_signal(signal.SIGTERM)
    assert bridge.proc.wait(15) == 0
    (record,) = [json.loads(p.read_text()) for p in record_dir.glob("*.json")]
    assert record["finished"] and record["exit_code"] == 0  # it exited on its own, before the server did
    assert list((tmp_path / "bridge-tmp").iterdir()) == []
    assert not [p for p in (tmp_path / "home" / ".copilot" / "session-state").iterdir() if not p.name.startswith(".")]
