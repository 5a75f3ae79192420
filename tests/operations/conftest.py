"""Fixtures for the operator features: a real redis-server, and `python -m server` as a process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import FAKE_BIN

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free port, no persistence (install with `make redis`)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make redis` (apt-get install redis-server)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_port(port), "redis-server did not start"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class BridgeProcess:
    """`python -m server` started with fake CLIs; stderr goes to a file for assertions."""

    def __init__(self, tmp_path: Path, record_dir: Path, **env: str) -> None:
        self.port = int(env.pop("PORT", "0")) or free_port()
        self.log_dir = tmp_path / "logs"
        self.stderr_path = tmp_path / "bridge-stderr.txt"
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("FAKE_CLI_", "COPILOT_", "CLAUDE_", "ANTHROPIC_"))}
        base.update({
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "SERVICE": "copilot",
            "COPILOT_CLI_PATH": str(FAKE_BIN / "copilot"),
            "COPILOT_MODE": "oneshot",  # these tests read one-shot runs' records
            "CLAUDE_MODE": "oneshot",
            "TEMP_DIR_BASE": str(tmp_path / "bridge-tmp"),
            "LOG_DIR": str(self.log_dir),
            "LOG_FORMAT": "json",
            "KILL_GRACE_MS": "300",
            "HOME": str(home),
            "FAKE_CLI_RECORD_DIR": str(record_dir),
            "PYTHONPATH": str(PROJECT_ROOT),
        })
        base.update(env)
        self.url = f"http://127.0.0.1:{self.port}"
        with self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=tmp_path, env=base,
                                         stdout=subprocess.DEVNULL, stderr=err)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"bridge exited {self.proc.returncode}: {self.stderr}"
            if wait_port(self.port, timeout=0.1):
                return
        raise AssertionError(f"bridge did not listen within {timeout}s: {self.stderr}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def start_bridge(tmp_path: Path, record_dir: Path) -> Iterator[Callable[..., BridgeProcess]]:
    """Start bridge processes; any still running at the end are killed."""
    started: list[BridgeProcess] = []

    def start(**env: str) -> BridgeProcess:
        bridge = BridgeProcess(tmp_path, record_dir, **env)
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        bridge.stop()
