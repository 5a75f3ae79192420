"""The real CLIs from npm, driven through the bridge against the project's fake model server."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.model_server import running_model_server

ROOT = Path(__file__).resolve().parents[2]


def real_cli(name: str) -> str:
    """The real CLI: REAL_<NAME>_PATH, the project's .tools prefix, or PATH. Missing is a failure."""
    candidates = [os.environ.get(f"REAL_{name.upper()}_PATH"), str(ROOT / ".tools" / "node_modules" / ".bin" / name)]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"the real {name} CLI is not installed; `make test` installs it into .tools")
    return found


@pytest.fixture(scope="session")
def copilot_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One XDG cache for the session: Copilot unpacks 235 MB into it on first run."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture
async def model_server() -> AsyncIterator[str]:
    """The fake model server's base URL."""
    async with running_model_server() as base_url:
        yield base_url


@pytest.fixture
def real_env(model_server: str, copilot_cache: Path, tmp_path: Path) -> dict[str, str]:
    """The env recipe from tests/fakes/README.md: no account, no network."""
    home = tmp_path / "real-home"
    home.mkdir()
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(copilot_cache),
        "COPILOT_OFFLINE": "true",
        "COPILOT_PROVIDER_BASE_URL": f"{model_server}/v1",
        # Copilot masks secret values in its JSON output, so the key must not occur in normal text.
        "COPILOT_PROVIDER_API_KEY": "key-" + secrets.token_hex(16),
        "ANTHROPIC_BASE_URL": model_server,
        "ANTHROPIC_API_KEY": "sk-ant-" + secrets.token_hex(8),
        "CLAUDE_CODE_MAX_RETRIES": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "IS_SANDBOX": "1",
    }
