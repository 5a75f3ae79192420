"""Fixtures for the daemon tests: a private PM2, free ports, and the real bridge to run.

`bridge_env` is the environment start.sh gets: `python -m server` (the real bridge) with the
fake CLIs from tests/fakes/bin, and every directory it writes to private to the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_helpers import FAKE_BIN, LOCAL_PM2, REPO, STOP_SH, VENV_PYTHON, Bridge, free_port, run

# Variables of ours, PM2's, the bridge's or the CLIs' that must not leak in from the developer's shell.
ISOLATED_PREFIXES = (
    "BRIDGE_",
    "PM2_",
    "HOST",
    "PORT",
    "SERVICE",
    "COPILOT_",
    "CLAUDE_",
    "ANTHROPIC_",
    "GH_",
    "GITHUB_",
    "FAKE_CLI_",
    "API_KEY",
    "LOG_",
    "RATE_LIMIT_",
    "CORS_",
    "WORKERS",
    "SHUTDOWN_",
    "DEFAULT_MODEL",
    "REQUEST_TIMEOUT",
    "TEMP_DIR_BASE",
    "MAX_CONCURRENT",
    "MAX_QUEUED",
    "KILL_GRACE",
    "ENABLE_",
    "MODELS_CACHE",
    "TOOL_DIALECTS",
    "ALLOW_PUBLIC",
)
# The server runs in the checkout and loads its .env (if any); a blank value here wins over it.
BLANKED = (
    "API_KEY",
    "API_KEYS",
    "DEFAULT_MODEL",
    "RATE_LIMIT_MAX",
    "WORKERS",
    "CORS_ORIGINS",
    "COPILOT_MODELS",
    "CLAUDE_MODELS",
    "REQUEST_TIMEOUT",
    "SHUTDOWN_GRACE",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "LOG_REQUESTS",
    "ENABLE_CLI_TOOLS",
    "MAX_CONCURRENT_CLIS",
    "TOOL_DIALECTS",
)


@pytest.fixture
def bridge_env(tmp_path: Path) -> Bridge:
    """Environment for start.sh/stop.sh: a free PORT, private dirs, SERVICE and CLI paths."""
    if not VENV_PYTHON.exists():
        pytest.fail("the project venv .venv is missing; run make test")
    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    records = tmp_path / "cli-records"
    records.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    env.update(dict.fromkeys(BLANKED, ""))
    env.update(
        HOME=str(home),
        HOST="127.0.0.1",
        PORT=str(port),
        SERVICE="copilot",
        COPILOT_CLI_PATH=str(FAKE_BIN / "copilot"),
        CLAUDE_CLI_PATH=str(FAKE_BIN / "claude"),
        # The fake CLIs answer one-shot runs without a login; a headless session needs one.
        COPILOT_MODE="oneshot",
        CLAUDE_MODE="oneshot",
        # tmp_path is under the system temp dir, outside any git checkout, as TEMP_DIR_BASE must be.
        # The server's LOG_DIR and start.sh's own BRIDGE_LOG_DIR are separate: one must not clobber the other.
        LOG_DIR=str(tmp_path / "server-logs"),
        LOG_REQUEST_BODY="true",
        TEMP_DIR_BASE=str(tmp_path / "requests"),
        FAKE_CLI_RECORD_DIR=str(records),
        PM2_HOME=str(tmp_path / "pm2"),
        BRIDGE_LOG_DIR=str(tmp_path / "logs"),
        BRIDGE_RUN_DIR=str(tmp_path / "run"),
        BRIDGE_START_TIMEOUT="30",
    )
    return Bridge(env=env, port=port)


@pytest.fixture(scope="session")
def pm2_bin() -> Path:
    """A pm2 executable: on PATH, or installed from npm into ./.tools once."""
    found = shutil.which("pm2")
    if found:
        return Path(found)
    if not LOCAL_PM2.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("neither pm2 nor npm is installed")
        done = subprocess.run(
            [npm, "install", "--prefix", str(REPO / ".tools"), "--no-audit", "--no-fund", "pm2"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"npm install pm2 failed:\n{done.stdout}\n{done.stderr}"
    return LOCAL_PM2


@pytest.fixture
def pm2_bridge(bridge_env: Bridge, pm2_bin: Path) -> Iterator[Bridge]:
    """The bridge environment under a private PM2 daemon, which is killed afterwards."""
    env = dict(bridge_env.env, BRIDGE_SUPERVISOR="pm2")
    try:
        yield Bridge(env=env, port=bridge_env.port)
    finally:
        run(STOP_SH, env=env)
        subprocess.run(
            [str(pm2_bin), "kill"], env=env, capture_output=True, timeout=60, check=False
        )


@pytest.fixture
def nohup_bridge(bridge_env: Bridge) -> Iterator[Bridge]:
    """The bridge environment without PM2; whatever it started is stopped afterwards."""
    env = dict(bridge_env.env, BRIDGE_SUPERVISOR="nohup")
    try:
        yield Bridge(env=env, port=bridge_env.port)
    finally:
        run(STOP_SH, env=dict(env, BRIDGE_STOP_TIMEOUT="2"))
