"""The Copilot backend's settings (COPILOT_*), read from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from executors.cli.settings import CliSettings
from executors.copilot.backend import CopilotBackend, CopilotMode
from executors.copilot.runner import HeadlessOptions
from executors.copilot.session_params import ONESHOT_ONLY_ENV
from executors.envconfig import ConfigError, parse_choice, parse_int, parse_str
from executors.protocol import Backend, BackendConfig, BackendContext

NAME = "copilot"
MODES: tuple[CopilotMode, ...] = ("auto", "headless", "oneshot")


@dataclass(frozen=True, slots=True)
class CopilotSettings:
    """COPILOT_CLI_PATH, COPILOT_MODELS, COPILOT_MODE, COPILOT_RECYCLE_* and the shared CLI settings."""

    cli: CliSettings
    mode: CopilotMode = "auto"
    headless: HeadlessOptions = field(default_factory=HeadlessOptions)
    name: str = NAME
    enabled_by_default: bool = True

    def build(self, context: BackendContext) -> Backend:
        """A Copilot backend: a long-lived headless server, one-shot runs, or both (auto)."""
        return CopilotBackend(self.name, self.cli.runtime(context.env), context, mode=self.mode, options=self.headless)


def read_mode(env: Mapping[str, str], cli: CliSettings) -> CopilotMode:
    """COPILOT_MODE, refused where headless sessions cannot do what the operator asked for."""
    mode = cast(CopilotMode, parse_choice(env, "COPILOT_MODE", "auto", MODES))
    if mode == "headless":
        if cli.enable_tools:
            raise ConfigError("COPILOT_MODE", "headless sessions run without the CLI's agent tools; "
                                              "ENABLE_CLI_TOOLS=true needs COPILOT_MODE=auto or oneshot")
        for key in ONESHOT_ONLY_ENV:
            if env.get(key, "").strip():
                raise ConfigError("COPILOT_MODE", f"{key} works only in one-shot runs; use COPILOT_MODE=auto or oneshot")
    return mode


def read_configs(env: Mapping[str, str], project_root: Path | None) -> list[BackendConfig]:
    """Copilot is always configured (it serves when SERVICE names it, or by default)."""
    cli = CliSettings.from_env(env, "COPILOT", project_root)
    headless = HeadlessOptions(
        recycle_sessions=parse_int(env, "COPILOT_RECYCLE_SESSIONS", 1000, minimum=0),
        recycle_rss_mb=parse_int(env, "COPILOT_RECYCLE_RSS_MB", 1024, minimum=0),
        warm_model=parse_str(env, "COPILOT_MODEL", "gpt-4.1"),
    )
    return [CopilotSettings(cli, read_mode(env, cli), headless)]
