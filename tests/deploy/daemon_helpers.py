"""Helpers for the daemon tests: paths, ports, the bridge's HTTP API, scripts, PM2, processes."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.openapi.hooks import record_exchange

REPO = Path(__file__).resolve().parents[2]
START_SH = REPO / "start.sh"
STOP_SH = REPO / "stop.sh"
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
FAKE_BIN = REPO / "tests" / "fakes" / "bin"
LOCAL_PM2 = REPO / ".tools" / "node_modules" / ".bin" / "pm2"
MODEL = "copilot/gpt-5.4"
FAKE_COPILOT_VERSION = "GitHub Copilot CLI 1.0.102."

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def call(
    port: int, method: str, path: str, body: object = None, timeout: float = 30
) -> tuple[int, Any]:
    """One request to the bridge; returns the status and the decoded JSON body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data else {},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read()
            record_exchange(method, path, response.status, response.headers.get("Content-Type", ""), raw)
            return response.status, json.loads(raw)
    except urllib.error.HTTPError as exc:
        with exc:
            raw = exc.read()
        record_exchange(method, path, exc.code, exc.headers.get("Content-Type", ""), raw)
        return exc.code, json.loads(raw) if raw else None


def get_health(port: int) -> tuple[int, Any]:
    """GET /health."""
    try:
        return call(port, "GET", "/health", timeout=5)
    except OSError:
        return 0, None


def model_ids(port: int) -> list[str]:
    """The ids `GET /v1/models` lists."""
    status, body = call(port, "GET", "/v1/models")
    assert status == 200, body
    return [model["id"] for model in body["data"]]


def ask(port: int, content: str, model: str = MODEL) -> str:
    """A non-streaming chat completion through the daemon; returns the answer text."""
    status, body = call(
        port,
        "POST",
        "/v1/chat/completions",
        {"model": model, "messages": [{"role": "user", "content": content}]},
    )
    assert status == 200, body
    return str(body["choices"][0]["message"]["content"])


def served_by(log_dir: Path, question: str) -> int:
    """The pid of the server process that answered `question` (from its request log)."""

    def find() -> int | None:
        for path in (log_dir / "requests").glob("*/*.json"):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            messages = (record.get("request_body") or {}).get("messages") or []
            if any(m.get("content") == question for m in messages):
                return int(record["pid"])
        return None

    deadline = time.monotonic() + 10  # the log is written just after the response
    while (pid := find()) is None:
        assert time.monotonic() < deadline, f"no request log names {question!r} in {log_dir}"
        time.sleep(0.1)
    return pid


def cli_records(record_dir: Path) -> list[dict[str, Any]]:
    """What the fake CLIs recorded about their runs."""
    records = []
    for path in record_dir.glob("*.json"):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return records


def process_gone(pid: int) -> bool:
    """True when `pid` no longer runs (a zombie nobody reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def command_line(pid: int) -> list[str]:
    """The argv of a running process."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def run(
    script: Path, *args: str, env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """Run one of the daemon scripts and capture its output."""
    return subprocess.run(
        [str(script), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True, slots=True)
class Bridge:
    """How the tests start the bridge: the environment for start.sh and where it writes."""

    env: dict[str, str]
    port: int

    @property
    def log_dir(self) -> Path:
        """The server's LOG_DIR (its request logs)."""
        return Path(self.env["LOG_DIR"])

    @property
    def record_dir(self) -> Path:
        """Where the fake CLIs record their runs."""
        return Path(self.env["FAKE_CLI_RECORD_DIR"])


def pm2_apps(pm2: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """`pm2 jlist` of the private daemon."""
    done = subprocess.run(
        [str(pm2), "jlist"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    # Older pm2 versions may print a banner before the JSON.
    start = done.stdout.find("[")
    return list(json.loads(done.stdout[start:])) if start != -1 else []
