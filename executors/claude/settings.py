"""The Claude backend's settings (CLAUDE_*), read from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from executors.claude.backend import ClaudeBackend, ClaudeMode
from executors.claude.pool import PoolOptions
from executors.cli.settings import CliSettings
from executors.envconfig import parse_choice, parse_float, parse_int, parse_list
from executors.protocol import Backend, BackendConfig, BackendContext

NAME = "claude"
MODES: tuple[ClaudeMode, ...] = ("auto", "pool", "oneshot")


@dataclass(frozen=True, slots=True)
class ClaudeSettings:
    """CLAUDE_CLI_PATH, CLAUDE_MODELS, CLAUDE_MAX_RETRIES, CLAUDE_MODE, CLAUDE_POOL_* and the shared CLI settings."""

    cli: CliSettings
    max_retries: int = 2
    mode: ClaudeMode = "auto"
    pool: PoolOptions = field(default_factory=PoolOptions)
    name: str = NAME
    enabled_by_default: bool = False

    def build(self, context: BackendContext) -> Backend:
        """A Claude backend with a pool of processes started ahead of demand (unless oneshot)."""
        return ClaudeBackend(self.name, self.cli.runtime(context.env), context, mode=self.mode,
                             max_retries=self.max_retries, pool=self.pool)


def read_pool(env: Mapping[str, str], mode: ClaudeMode) -> PoolOptions:
    """CLAUDE_POOL_SIZE, CLAUDE_POOL_IDLE_TIMEOUT, CLAUDE_POOL_MEMORY_MB, CLAUDE_POOL_MODELS."""
    return PoolOptions(
        size=parse_int(env, "CLAUDE_POOL_SIZE", 1, minimum=0, maximum=16),
        idle_timeout_s=parse_float(env, "CLAUDE_POOL_IDLE_TIMEOUT", 300.0, minimum=1.0),
        memory_mb=parse_int(env, "CLAUDE_POOL_MEMORY_MB", 1024, minimum=0),
        models=tuple(parse_list(env, "CLAUDE_POOL_MODELS")),
        pause_on_deaths=mode == "auto",
    )


def read_configs(env: Mapping[str, str], project_root: Path | None) -> list[BackendConfig]:
    """Claude is always configured; it serves when SERVICE names it."""
    mode = cast(ClaudeMode, parse_choice(env, "CLAUDE_MODE", "auto", MODES))
    return [ClaudeSettings(CliSettings.from_env(env, "CLAUDE", project_root),
                           parse_int(env, "CLAUDE_MAX_RETRIES", 2, minimum=0), mode, read_pool(env, mode))]
