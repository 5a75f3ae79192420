"""The systemd unit verifies cleanly and carries the settings the deployment relies on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from daemon_helpers import REPO, VENV_PYTHON

UNIT = REPO / "deploy" / "copilot-bridge.service"
INSTALL_DIR = "/opt/copilot-bridge"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

def _require_systemd_analyze() -> None:
    if SYSTEMD_ANALYZE is None:
        pytest.fail("systemd-analyze is not installed (Debian package systemd)")



def settings() -> dict[str, list[str]]:
    """Every `Key=value` of the unit, by key, in order."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.fixture
def local_unit(tmp_path: Path) -> Path:
    """A copy of the unit whose paths point at this checkout, so ExecStart exists."""
    _require_systemd_analyze()
    if not VENV_PYTHON.exists():
        pytest.fail("the project venv .venv is missing; run make test")
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text().replace(INSTALL_DIR, str(REPO)))
    return copy


def test_verify_reports_nothing(local_unit: Path) -> None:
    done = subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", str(local_unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    # Other units on the machine may have their own complaints; ours must have none.
    ours = [line for line in output.splitlines() if "copilot-bridge" in line]
    assert done.returncode == 0, output
    assert ours == []


def test_security_exposure_is_low(local_unit: Path) -> None:
    done = subprocess.run(
        [str(SYSTEMD_ANALYZE), "security", "--offline=yes", "--threshold=30", str(local_unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "--offline" in done.stderr and "unrecognized" in done.stderr:
        pytest.fail("this systemd-analyze has no --offline")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr


def test_unit_runs_the_venv_as_a_restricted_service_user() -> None:
    unit = settings()
    assert unit["ExecStart"] == [f"{INSTALL_DIR}/.venv/bin/python -m server"]
    assert unit["WorkingDirectory"] == [INSTALL_DIR]
    assert unit["EnvironmentFile"] == [f"-{INSTALL_DIR}/.env"]
    assert unit["User"] == ["copilot-bridge"]
    expected = {
        "Restart": "on-failure",
        "RestartSec": "2",
        "KillMode": "mixed",
        "TimeoutStopSec": "20",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "read-only",
        "StateDirectory": "copilot-bridge",
        "ProtectKernelTunables": "yes",
        "ProtectControlGroups": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    # The CLIs keep their state under HOME, so HOME must be the writable state directory.
    assert "HOME=/var/lib/copilot-bridge" in unit["Environment"]
    # Under ProtectSystem=strict nothing else in the install dir may be writable.
    assert unit["ReadWritePaths"] == [f"-{INSTALL_DIR}/logs"]
