"""Real client programs (Codex CLI) run against the bridge: where to find them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def codex_cli() -> str:
    """Codex CLI: REAL_CODEX_PATH, the project's .tools prefix (`make test` installs it), or PATH."""
    candidates = [os.environ.get("REAL_CODEX_PATH"), str(ROOT / ".tools" / "node_modules" / ".bin" / "codex")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("codex")
    if found is None:
        pytest.fail("Codex CLI is not installed; `make test` installs @openai/codex into .tools")
    return found
