"""A real llama-cpp-python server with Qwen2.5-Coder-0.5B, started once per pytest session.

`make real-upstream` (tests/upstream_real/llm_setup.py) installs it; a missing install is a
failure that says so, not a skip. The server runs with 1 thread (2 threads spin-wait and collapse
under CPU contention), a 2048-token context and embeddings on: with `--embedding true` chat keeps
working, so one process serves every endpoint (measured; its vectors are per token, see the tests).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.upstream_real.llm_setup import MODEL_ALIAS, is_ready, llm_paths

READY_TIMEOUT_S = 90.0  # 1 to 4 s on a quiet machine; generous for a loaded one
STOP_GRACE_S = 10.0


@dataclass(frozen=True, slots=True)
class LlmServer:
    """A running real upstream: its OpenAI base URL (ending in /v1), model alias and log file."""

    base_url: str
    model: str
    log: Path
    pid: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll `GET /v1/models` (the server has no /health) until it answers 200."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"llama_cpp.server not ready after {READY_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # uvicorn shuts down cleanly on SIGTERM
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlmServer]:
    """Start `python -m llama_cpp.server` on a free loopback port; stop it after the session."""
    paths = llm_paths()
    if not is_ready(paths):
        pytest.fail(f"the real-upstream tier is not installed in {paths.root}; run `make real-upstream`")
    port = _free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    argv = [str(paths.python), "-m", "llama_cpp.server", "--model", str(paths.model),
            "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1",
            "--embedding", "true", "--verbose", "false"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(process, base_url, log)
        yield LlmServer(base_url, MODEL_ALIAS, log, process.pid)
    finally:
        _stop(process)
