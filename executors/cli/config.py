"""What a CLI launcher runs with: the executable, the child environment and the operator's choices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from executors.cli.probe import cached_executable, run_probe


@dataclass(frozen=True, slots=True)
class CliConfig:
    """Where the CLI is, the environment it runs with, and the operator's choices for it."""

    path: str
    env: Mapping[str, str]
    extra_dirs: tuple[Path, ...] = ()
    grace_s: float = 0.5
    enable_tools: bool = False
    models: tuple[str, ...] = ()  # operator override of the discovered list

    def executable(self) -> str | None:
        """Absolute path of the CLI, or None when it is not installed (looked up at most every few seconds)."""
        return cached_executable(self.path, self.extra_dirs, self.env)

    def child_env(self, **overrides: str) -> dict[str, str]:
        """The CLI's environment: the server's, plus no-colour and per-backend defaults it may override."""
        env = dict(self.env)
        env["NO_COLOR"] = "1"
        for key, value in overrides.items():
            env.setdefault(key, value)
        return env

    async def version(self) -> str | None:
        """First line of `<cli> --version`, or None."""
        exe = self.executable()
        if exe is None:
            return None
        probe = await run_probe([exe, "--version"], env=self.child_env(), timeout_s=20)
        if probe is None or probe[0] != 0:
            return None
        first = probe[1].strip().splitlines()
        return first[0] if first else None
