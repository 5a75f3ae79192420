"""The real bridge (`python -m server`) on a free port, with the fake CLIs from tests/fakes/bin.

Its answers are scripted through the fakes' `[[fake:...]]` directives (tests/fakes/README.md);
what it did is read back from the fakes' records (argv, stdin, AGENTS.md of every CLI run) and
from the bridge's own request log (LOG_DIR/requests, with request bodies).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
FAKE_BIN = REPO / "tests" / "fakes" / "bin"
START_TIMEOUT = 30.0
# Variables the developer's shell might carry that the bridge or the CLIs would read.
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll `predicate` until it returns something truthy (returned) or `timeout` passes (falsy)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(0.05)


def process_gone(pid: int) -> bool:
    """True when `pid` no longer runs (a zombie nobody reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


@dataclass(slots=True)
class RunningBridge:
    """A started `python -m server` and where to read what it did."""

    url: str
    process: subprocess.Popen[bytes]
    record_dir: Path
    log_dir: Path
    output: Path

    def cli_runs(self) -> list[dict[str, Any]]:
        """Every fake CLI run so far (any order); a file being replaced is skipped this time."""
        runs = []
        for path in self.record_dir.glob("*.json"):
            try:
                runs.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return runs

    def cli_run(self, text: str, timeout: float = 15.0) -> dict[str, Any]:
        """The one CLI run whose prompt has `text` as its last user turn.

        `prompt` is what the fake read as the prompt: Copilot's whole stdin, or the text of
        Claude's stream-json user message.
        """

        def matching() -> list[dict[str, Any]]:
            return [r for r in self.cli_runs() if last_user_turn(r.get("prompt") or "") == text]

        found = wait_for(matching, timeout)
        assert len(found) == 1, f"{len(found)} CLI runs were asked {text!r}: {self.cli_runs()}"
        return found[0]

    def chat_requests(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The bridge's logs of its first `count` chat-completion requests, oldest first.

        A record is written when the response is complete, so this waits for `count` of them.
        """

        def logged() -> list[dict[str, Any]]:
            records = []
            for path in (self.log_dir / "requests").glob("*/*.json"):
                try:
                    record = json.loads(path.read_text())
                except (OSError, ValueError):
                    return []  # being written; look again
                if record["path"].endswith("/chat/completions"):
                    records.append(record)
            return sorted(records, key=lambda r: r["started_at"]) if len(records) >= count else []

        records = wait_for(logged, timeout)
        assert records, (
            f"fewer than {count} chat requests were logged; server output:\n{self.tail()}"
        )
        return list(records)

    def tail(self) -> str:
        """The end of the server's stdout and stderr."""
        return self.output.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM the server and wait for it; SIGKILL what does not end."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


TRANSCRIPT_HEAD = "The conversation so far:"
TRANSCRIPT_TAIL = "\n\nReply as the assistant to the last user message."


def last_user_turn(prompt: str) -> str:
    """The user's last message in a CLI prompt: the whole prompt, or the end of a transcript."""
    if not prompt.startswith(TRANSCRIPT_HEAD):
        return prompt
    return prompt.removesuffix(TRANSCRIPT_TAIL).rpartition("### User\n")[2]


def start_bridge(tmp: Path, extra_env: Mapping[str, str] | None = None) -> RunningBridge:
    """Start `python -m server` the way an operator would, with every path private to `tmp`."""
    tmp.mkdir(parents=True, exist_ok=True)
    home, records = tmp / "home", tmp / "cli-records"
    home.mkdir(exist_ok=True)
    records.mkdir(exist_ok=True)
    port = free_port()
    env = {key: os.environ[key] for key in KEPT_ENV if key in os.environ}
    env.update(
        HOME=str(home),
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        HOST="127.0.0.1",
        PORT=str(port),
        SERVICE="both",
        COPILOT_CLI_PATH=str(FAKE_BIN / "copilot"),
        CLAUDE_CLI_PATH=str(FAKE_BIN / "claude"),
        COPILOT_MODE="oneshot",  # `cli_run` reads what each one-shot run recorded
        CLAUDE_MODE="oneshot",
        LOG_DIR=str(tmp / "logs"),
        LOG_REQUEST_BODY="true",
        TEMP_DIR_BASE=str(tmp / "requests"),
        KILL_GRACE_MS="300",
        SHUTDOWN_GRACE="2",
        FAKE_CLI_RECORD_DIR=str(records),
    )
    env.update(extra_env or {})
    output = tmp / "server-output.log"
    with output.open("wb") as sink:
        # cwd: not the checkout, so no developer's .env is loaded.
        process = subprocess.Popen(
            [str(VENV_PYTHON), "-m", "server"],
            cwd=tmp,
            env=env,
            stdout=sink,
            stderr=sink,
            stdin=subprocess.DEVNULL,
        )
    bridge = RunningBridge(f"http://127.0.0.1:{port}", process, records, tmp / "logs", output)
    deadline = time.monotonic() + START_TIMEOUT
    while not _healthy(bridge.url):
        if process.poll() is not None or time.monotonic() > deadline:
            bridge.stop()
            raise AssertionError(f"the bridge did not come up on port {port}:\n{bridge.tail()}")
        time.sleep(0.05)
    return bridge


# Starts a bridge with extra environment variables (keyword arguments).
StartBridge = Callable[..., RunningBridge]


def _healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/health", timeout=5) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False
