"""start.sh asks the venv itself whether copilot-bridge is installed (issue 12).

Any editable install of a checkout, into any venv, leaves `copilot_bridge.egg-info` in the
checkout. start.sh used to ask the venv's Python for the package's metadata from the checkout's
directory, where that egg-info answered; it skipped the install and the server died with
`No module named 'dotenv'`. These tests run pip with the machine's own package sources and cache
(the same ones `make test` installed .venv from).
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


def pip_settings() -> dict[str, str]:
    """pip's configuration file and cache, which the tests' private HOME would hide."""
    settings = {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    for config in (config_home / "pip" / "pip.conf", Path.home() / ".pip" / "pip.conf"):
        if config.is_file() and "PIP_CONFIG_FILE" not in os.environ:
            settings["PIP_CONFIG_FILE"] = str(config)
            break
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    settings["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(cache_home / "pip")
    return settings


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
