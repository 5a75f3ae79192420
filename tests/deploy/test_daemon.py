"""start.sh / stop.sh run the real bridge in the background, under PM2 or with nohup.

The bridge is `python -m server` with the fake CLIs: each test asks it something through the
daemon and checks which server process answered (the request log names its pid).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from daemon_helpers import (
    FAKE_COPILOT_VERSION,
    MODEL,
    START_SH,
    STOP_SH,
    VENV_PYTHON,
    Bridge,
    ask,
    cli_records,
    command_line,
    get_health,
    model_ids,
    pm2_apps,
    port_open,
    process_gone,
    run,
    served_by,
    wait_until,
)

pytestmark = pytest.mark.slow
MOCK = "Hello from mock."


def our_app(pm2: Path, env: dict[str, str]) -> dict[str, object] | None:
    for app in pm2_apps(pm2, env):
        if app.get("name") == "copilot-bridge":
            return app
    return None


def pm2_pid(pm2: Path, env: dict[str, str]) -> int:
    app = our_app(pm2, env)
    assert app is not None, "PM2 does not know copilot-bridge"
    return int(app["pid"])  # type: ignore[call-overload]


def assert_is_the_bridge(pid: int) -> None:
    """The process is `.venv/bin/python -m server` from this checkout."""
    assert command_line(pid) == [str(VENV_PYTHON), "-m", "server"]


def assert_serves_copilot(bridge: Bridge) -> None:
    """/health and /v1/models as SERVICE=copilot with the fake CLI give them."""
    status, health = get_health(bridge.port)
    assert status == 200, health
    # Found, but with a private HOME and no token it cannot look logged in.
    assert health["status"] == "degraded"
    assert list(health["backends"]) == ["copilot"]
    copilot = health["backends"]["copilot"]
    assert copilot["cli_found"] is True
    assert copilot["cli_path"] == bridge.env["COPILOT_CLI_PATH"]
    assert copilot["version"] == FAKE_COPILOT_VERSION
    models = model_ids(bridge.port)
    assert MODEL in models
    assert not [m for m in models if not m.startswith("copilot/")]


def test_pm2_start_status_stop(pm2_bridge: Bridge, pm2_bin: Path) -> None:
    env, port = pm2_bridge.env, pm2_bridge.port
    started = run(START_SH, env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"is up at http://127.0.0.1:{port} (PM2" in started.stdout
    app = our_app(pm2_bin, env)
    assert app is not None
    assert app["pm2_env"]["status"] == "online"  # type: ignore[index]
    pid = pm2_pid(pm2_bin, env)
    assert_is_the_bridge(pid)

    assert_serves_copilot(pm2_bridge)
    question = "hello through PM2"
    assert ask(port, question) == MOCK
    assert served_by(pm2_bridge.log_dir, question) == pid
    # The CLI ran in a request dir under TEMP_DIR_BASE, with the HOME start.sh was given.
    [record] = cli_records(pm2_bridge.record_dir)
    assert record["prompt"] == question
    assert record["cwd"].startswith(env["TEMP_DIR_BASE"] + os.sep)
    assert record["env"]["HOME"] == env["HOME"]

    state = run(START_SH, "status", env=env)
    assert state.returncode == 0, state.stdout + state.stderr
    assert f"running under PM2 (pid {pid})" in state.stdout and "healthy" in state.stdout

    again = run(START_SH, env=env)
    assert again.returncode == 0
    assert f"already running (pid {pid})" in again.stdout

    stopped = run(STOP_SH, env=env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "stopped (PM2)" in stopped.stdout
    assert not port_open(port)
    assert wait_until(lambda: process_gone(pid))
    assert our_app(pm2_bin, env) is None
    assert run(START_SH, "status", env=env).returncode == 3


def test_pm2_restarts_a_crashed_server(pm2_bridge: Bridge, pm2_bin: Path) -> None:
    env, port = pm2_bridge.env, pm2_bridge.port
    assert run(START_SH, env=env).returncode == 0
    first_pid = pm2_pid(pm2_bin, env)
    assert ask(port, "before the crash") == MOCK
    assert served_by(pm2_bridge.log_dir, "before the crash") == first_pid
    os.kill(first_pid, signal.SIGKILL)

    def restarted() -> bool:
        current = our_app(pm2_bin, env)
        return bool(current and current["pid"] not in (0, first_pid) and port_open(port))

    assert wait_until(restarted)
    assert wait_until(lambda: get_health(port)[0] == 200)
    second_pid = pm2_pid(pm2_bin, env)
    assert_is_the_bridge(second_pid)
    assert ask(port, "after the crash") == MOCK
    assert served_by(pm2_bridge.log_dir, "after the crash") == second_pid
    app = our_app(pm2_bin, env)
    assert app is not None and app["pm2_env"]["restart_time"] >= 1  # type: ignore[index]

    logs = run(START_SH, "logs", "--no-follow", "-n", "50", env=env)
    assert logs.returncode == 0, logs.stderr
    assert f"copilot-bridge listening on http://127.0.0.1:{port}" in logs.stdout


def test_pm2_restart_passes_the_changed_environment(
    pm2_bridge: Bridge, pm2_bin: Path, tmp_path: Path
) -> None:
    env, port = pm2_bridge.env, pm2_bridge.port
    assert run(START_SH, env=env).returncode == 0
    assert_serves_copilot(pm2_bridge)

    # An operator switches to Claude, with its CLI somewhere else, and restarts.
    claude = tmp_path / "elsewhere" / "claude"
    claude.parent.mkdir()
    shutil.copy2(env["CLAUDE_CLI_PATH"], claude)  # a copy: the bridge resolves symlinks
    changed = dict(env, SERVICE="claude", CLAUDE_CLI_PATH=str(claude))
    restarted = run(START_SH, "restart", env=changed)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert "stopped (PM2)" in restarted.stdout and "is up at" in restarted.stdout

    status, health = get_health(port)
    assert status == 200, health
    assert list(health["backends"]) == ["claude"]
    assert health["backends"]["claude"]["cli_path"] == str(claude)
    models = model_ids(port)
    assert "claude/sonnet" in models
    assert not [m for m in models if not m.startswith("claude/")]
    assert ask(port, "hi claude", model="claude/sonnet") == MOCK
    [record] = cli_records(pm2_bridge.record_dir)
    assert record["argv"][0] == str(claude)
    assert record["argv"][record["argv"].index("--model") + 1] == "sonnet"


def test_nohup_start_status_logs_restart_stop(nohup_bridge: Bridge) -> None:
    env, port = nohup_bridge.env, nohup_bridge.port
    pid_file = Path(env["BRIDGE_RUN_DIR"]) / "copilot-bridge.pid"
    started = run(START_SH, env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"is up at http://127.0.0.1:{port} (nohup: pid" in started.stdout
    first_pid = int(pid_file.read_text())
    assert_is_the_bridge(first_pid)
    assert_serves_copilot(nohup_bridge)
    assert ask(port, "first question") == MOCK
    assert served_by(nohup_bridge.log_dir, "first question") == first_pid

    state = run(START_SH, "status", env=env)
    assert state.returncode == 0
    assert f"running (pid {first_pid}" in state.stdout

    logs = run(START_SH, "logs", "--no-follow", env=env)
    assert logs.returncode == 0
    assert f"copilot-bridge listening on http://127.0.0.1:{port}" in logs.stdout

    restarted = run(START_SH, "restart", env=env)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    second_pid = int(pid_file.read_text())
    assert second_pid != first_pid
    assert process_gone(first_pid)
    assert ask(port, "second question") == MOCK
    assert served_by(nohup_bridge.log_dir, "second question") == second_pid

    stopped = run(STOP_SH, env=env)
    assert stopped.returncode == 0
    assert f"stopped (pid {second_pid})" in stopped.stdout
    assert not port_open(port)
    assert process_gone(second_pid)
    assert not pid_file.exists()
    # The server drained and shut down on SIGTERM, as it logs.
    out = (Path(env["BRIDGE_LOG_DIR"]) / "server.out").read_text()
    assert "shutdown_drained" in out
    gone = run(START_SH, "status", env=env)
    assert gone.returncode == 3
    assert "not running" in gone.stdout
    assert "not running" in run(STOP_SH, env=env).stdout


def _ask_in_background(port: int, content: str) -> threading.Thread:
    """Start a streaming request that is left hanging; its connection error is expected."""

    def go() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            body = {
                "model": MODEL,
                "stream": True,
                "messages": [{"role": "user", "content": content}],
            }
            conn.request(
                "POST",
                "/v1/chat/completions",
                json.dumps(body),
                {"Content-Type": "application/json"},
            )
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def test_nohup_stop_kills_a_server_that_does_not_end_in_time(nohup_bridge: Bridge) -> None:
    # On SIGTERM the bridge waits up to SHUTDOWN_GRACE for requests in flight; this one never
    # ends, because its CLI hangs and ignores SIGTERM. stop.sh must not wait that long.
    env = dict(nohup_bridge.env, SHUTDOWN_GRACE="60", BRIDGE_STOP_TIMEOUT="1")
    assert run(START_SH, env=env).returncode == 0
    server_pid = int((Path(env["BRIDGE_RUN_DIR"]) / "copilot-bridge.pid").read_text())
    request = _ask_in_background(nohup_bridge.port, "hang [[fake:scenario=hang_hard]]")
    assert wait_until(lambda: any(r.get("child_pid") for r in cli_records(nohup_bridge.record_dir)))
    [record] = cli_records(nohup_bridge.record_dir)
    cli_pid, child_pid = int(record["pid"]), int(record["child_pid"])
    assert not process_gone(cli_pid) and not process_gone(child_pid)

    begun = time.monotonic()
    stopped = run(STOP_SH, env=env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "ignored SIGTERM for 1s; sending SIGKILL" in stopped.stderr
    assert time.monotonic() - begun < 10
    assert not port_open(nohup_bridge.port)
    # The server, its CLI and the CLI's own child are all gone.
    for pid in (server_pid, cli_pid, child_pid):
        assert wait_until(lambda pid=pid: process_gone(pid), timeout=10), pid
    out = (Path(env["BRIDGE_LOG_DIR"]) / "server.out").read_text()
    assert "shutdown_started" in out and "shutdown_drained" not in out
    request.join(timeout=10)
    assert not request.is_alive()


def test_start_reports_a_server_that_dies_at_once(nohup_bridge: Bridge) -> None:
    env = dict(nohup_bridge.env, SERVICE="bogus")
    started = run(START_SH, env=env)
    assert started.returncode == 1
    assert "exited while starting" in started.stderr
    # The server's own one-line complaint is shown from its log.
    assert "configuration error: SERVICE: unknown backend 'bogus'; configured: copilot, claude" in started.stderr
    assert not port_open(nohup_bridge.port)


def test_start_refuses_a_port_someone_else_answers_on(nohup_bridge: Bridge) -> None:
    env = nohup_bridge.env
    assert run(START_SH, env=env).returncode == 0
    # A second checkout's state (a different run dir) sees a healthy stranger on the port.
    other = dict(env, BRIDGE_RUN_DIR=env["BRIDGE_RUN_DIR"] + "-other")
    refused = run(START_SH, env=other)
    assert refused.returncode == 1
    assert "something else already answers" in refused.stderr
    # The one that runs is untouched.
    assert ask(nohup_bridge.port, "still yours?") == MOCK
