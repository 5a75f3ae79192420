"""Per-backend health: is the CLI installed, which version, does it look authenticated."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from executors import Executor

# Where each CLI keeps credentials when they are not given in the environment.
_AUTH_ENV = {
    "copilot": ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN", "COPILOT_PROVIDER_BASE_URL"),
    "claude": ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX"),
}


def _auth_files(backend: str, env: Mapping[str, str]) -> list[tuple[Path, tuple[str, ...]]]:
    """Files that hold a login, each with words that only a logged-in file contains."""
    home = Path(env.get("HOME") or Path.home())
    if backend == "copilot":
        copilot_home = Path(env.get("COPILOT_HOME") or home / ".copilot")
        # copilot writes config.json on its first run; only a /login adds these keys to it.
        return [
            (copilot_home / "config.json", ('"loggedInUsers"', '"lastLoggedInUser"')),
            (home / ".config" / "gh" / "hosts.yml", ("oauth_token",)),
        ]
    claude_dir = Path(env.get("CLAUDE_CONFIG_DIR") or home / ".claude")
    return [(claude_dir / ".credentials.json", ("accessToken", "claudeAiOauth"))]


def _mentions(path: Path, words: tuple[str, ...]) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:1_000_000]
    except OSError:
        return False
    return any(word in text for word in words)


def auth_hint(backend: str, env: Mapping[str, str]) -> tuple[bool, str]:
    """Whether credentials look present, and where they were found (never their value)."""
    for key in _AUTH_ENV[backend]:
        if env.get(key, "").strip():
            return True, f"env {key}"
    for path, words in _auth_files(backend, env):
        if _mentions(path, words):
            return True, str(path)
    return False, "no credentials found in the environment or the CLI's config dir"


class HealthProbe:
    """Caches CLI versions (probing is slow) and builds the /health report."""

    def __init__(self, executors: Mapping[str, Executor], env: Mapping[str, str], ttl_s: float = 300) -> None:
        self._executors = executors
        self._env = env
        self._ttl_s = ttl_s
        self._versions: dict[str, str | None] = {}
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._checked_at < self._ttl_s:
                return
            names = list(self._executors)
            versions = await asyncio.gather(*(self._executors[n].version() for n in names))
            self._versions = dict(zip(names, versions, strict=True))
            self._checked_at = time.monotonic()

    async def report(self) -> dict[str, Any]:
        """The /health body: overall status plus one entry per enabled backend."""
        await self._refresh()
        backends: dict[str, Any] = {}
        for name, executor in self._executors.items():
            path = executor.resolved_path()
            authed, source = auth_hint(name, self._env)
            backends[name] = {
                "cli_found": path is not None,
                "cli_path": path,
                "version": self._versions.get(name) if path else None,
                "authenticated": authed,
                "auth_source": source,
            }
        usable = [b for b in backends.values() if b["cli_found"]]
        status = "ok" if len(usable) == len(backends) and all(b["authenticated"] for b in usable) else (
            "degraded" if usable else "unavailable"
        )
        return {"status": status, "backends": backends}
