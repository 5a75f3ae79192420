"""start.sh asks the venv itself whether copilot-bridge is installed (issue 12).

Any editable install of a checkout, into any venv, leaves `copilot_bridge.egg-info` in the
checkout. start.sh used to ask the venv's Python for the package's metadata from the checkout's
directory, where that egg-info answered; it skipped the install and the server died with
`No module named 'dotenv'`. These tests run pip offline, from the wheels `make wheelhouse` made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_helpers import REPO, START_SH, VENV_PYTHON, Bridge, get_health, run

INSTALLING = "installing copilot-bridge into .venv"


def copy_checkout(dest: Path) -> None:
    """The checkout's files as a fresh clone has them (tracked and new, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def wheelhouse() -> Path:
    """Wheels of the project's dependencies, made by `make wheelhouse` (part of `make test`)."""
    cache = os.environ.get("COPILOT_BRIDGE_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "copilot-bridge"
    )
    return Path(cache) / "wheelhouse"


def pip_settings() -> dict[str, str]:
    """pip offline: only the local wheelhouse, never an index (tests reach loopback only)."""
    wheels = wheelhouse()
    assert any(wheels.glob("aiohttp-*.whl")), f"no wheels in {wheels}: run `make wheelhouse` (part of `make test`)"
    return {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}


@pytest.mark.slow
def test_a_stray_egg_info_in_the_checkout_does_not_skip_the_install(
    tmp_path: Path, nohup_bridge: Bridge
) -> None:
    clone = tmp_path / "clone"
    copy_checkout(clone)
    env = dict(nohup_bridge.env, **pip_settings())
    # An editable install of the clone into another venv (without its dependencies: only the
    # metadata it leaves behind matters) writes copilot_bridge.egg-info into the clone.
    other = tmp_path / "other-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "--python", str(other / "bin" / "python")]
    done = subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", "-e", str(clone)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (clone / "copilot_bridge.egg-info" / "PKG-INFO").is_file()
    assert not (clone / ".venv").exists()

    try:
        started = run(clone / "start.sh", env=env, timeout=600)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "creating .venv" in started.stdout
        assert INSTALLING in started.stdout, started.stdout
        assert get_health(nohup_bridge.port)[0] == 200
        # Installed from this clone, the venv now answers for itself: no second install.
        assert run(clone / "stop.sh", env=env).returncode == 0
        again = run(clone / "start.sh", env=env, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr
        assert INSTALLING not in again.stdout
        assert get_health(nohup_bridge.port)[0] == 200
        # A dependency added to pyproject.toml (one aiohttp already brought in) is installed.
        assert run(clone / "stop.sh", env=env).returncode == 0
        pyproject = clone / "pyproject.toml"
        text = pyproject.read_text()
        assert '    "aiohttp>=3.10",\n' in text
        added = text.replace('    "aiohttp>=3.10",\n', '    "aiohttp>=3.10",\n    "multidict",\n')
        pyproject.write_text(added)
        changed = run(clone / "start.sh", env=env, timeout=600)
        assert changed.returncode == 0, changed.stdout + changed.stderr
        assert INSTALLING in changed.stdout
        assert get_health(nohup_bridge.port)[0] == 200
    finally:
        run(clone / "stop.sh", env=dict(env, BRIDGE_STOP_TIMEOUT="2"))


def test_the_projects_own_venv_counts_as_ready(nohup_bridge: Bridge) -> None:
    started = run(START_SH, env=nohup_bridge.env)
    assert started.returncode == 0, started.stdout + started.stderr
    assert INSTALLING not in started.stdout
    assert get_health(nohup_bridge.port)[0] == 200
