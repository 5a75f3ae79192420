"""Settings every CLI backend reads from the environment (path, models, agent tools, kill grace)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from executors.cli.config import CliConfig
from executors.envconfig import parse_bool, parse_int, parse_list, parse_str


@dataclass(frozen=True, slots=True)
class CliSettings:
    """Where one CLI is and how it may run; `PREFIX_CLI_PATH` and `PREFIX_MODELS` name it."""

    path: str
    models: tuple[str, ...] = ()  # operator override of the discovered list
    enable_tools: bool = False
    grace_s: float = 0.5
    extra_dirs: tuple[Path, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], prefix: str, project_root: Path | None) -> CliSettings:
        """`<PREFIX>_CLI_PATH`, `<PREFIX>_MODELS`, `ENABLE_CLI_TOOLS`, `KILL_GRACE_MS`."""
        return cls(
            path=parse_str(env, f"{prefix}_CLI_PATH", prefix.lower()),
            models=tuple(parse_list(env, f"{prefix}_MODELS")),
            enable_tools=parse_bool(env, "ENABLE_CLI_TOOLS", False),
            grace_s=parse_int(env, "KILL_GRACE_MS", 500, minimum=0, maximum=60_000) / 1000,
            # CLIs installed by `make run` into the checkout are found without touching PATH.
            extra_dirs=(project_root / ".tools" / "node_modules" / ".bin",) if project_root else (),
        )

    def runtime(self, env: Mapping[str, str]) -> CliConfig:
        """The config a launcher runs with: these settings plus the environment children inherit."""
        return CliConfig(
            path=self.path,
            env=env,
            extra_dirs=self.extra_dirs,
            grace_s=self.grace_s,
            enable_tools=self.enable_tools,
            models=self.models,
        )
