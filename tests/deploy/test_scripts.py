"""The daemon scripts parse, are executable, and the PM2 file says what it should."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from daemon_helpers import REPO, START_SH, STOP_SH

SCRIPTS = [START_SH, STOP_SH, REPO / "chat_client" / "chat.sh"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parses_and_is_executable(script: Path) -> None:
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/usr/bin/env bash\n")


def test_shellcheck_is_clean() -> None:
    assert shutil.which("shellcheck"), "shellcheck is not installed (make test installs it)"
    done = subprocess.run(
        ["shellcheck", *map(str, SCRIPTS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def test_help_lists_the_subcommands() -> None:
    done = subprocess.run([str(START_SH), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for word in ("status", "logs", "restart", "stop", "BRIDGE_PYTHON_MODULE"):
        assert word in done.stdout


def test_unknown_subcommand_fails() -> None:
    done = subprocess.run(
        [str(START_SH), "frobnicate"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2


def load_ecosystem(env: dict[str, str]) -> dict[str, object]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed")
    script = "console.log(JSON.stringify(require(process.argv[1]).apps))"
    done = subprocess.run(
        [node, "-e", script, str(REPO / "ecosystem.config.js")],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    apps = json.loads(done.stdout)
    assert len(apps) == 1
    return dict(apps[0])


def test_ecosystem_runs_the_venv_python_in_the_repo() -> None:
    app = load_ecosystem({})
    assert app["name"] == "copilot-bridge"
    assert app["script"] == str(REPO / ".venv" / "bin" / "python")
    assert app["args"] == ["-m", "server"]
    assert app["interpreter"] == "none"
    assert app["cwd"] == str(REPO)
    assert app["autorestart"] is True
    assert int(app["kill_timeout"]) >= 15000  # type: ignore[call-overload]
    assert app["out_file"] == str(REPO / "logs" / "pm2-out.log")
    assert app["error_file"] == str(REPO / "logs" / "pm2-error.log")


def test_ecosystem_honours_the_module_and_log_dir_overrides(tmp_path: Path) -> None:
    app = load_ecosystem({"BRIDGE_PYTHON_MODULE": "other_module", "BRIDGE_LOG_DIR": str(tmp_path)})
    assert app["args"] == ["-m", "other_module"]
    assert app["out_file"] == str(tmp_path / "pm2-out.log")
