"""The Claude Code backend: its settings (CLAUDE_*), credentials check and one-shot runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from executors.claude.launcher import ClaudeLauncher
from executors.cli.auth import find_credentials, home_of
from executors.cli.backend import CliBackend
from executors.cli.settings import CliSettings
from executors.envconfig import parse_int
from executors.protocol import Backend, BackendConfig, BackendContext, Capabilities

NAME = "claude"
_AUTH_ENV = (
    "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
)


def claude_credentials(env: Mapping[str, str]) -> tuple[bool, str]:
    """A key or token in the environment, or a /login in Claude's credentials file."""
    claude_dir = Path(env.get("CLAUDE_CONFIG_DIR") or home_of(env) / ".claude")
    return find_credentials(env, _AUTH_ENV, [(claude_dir / ".credentials.json", ("accessToken", "claudeAiOauth"))])


@dataclass(frozen=True, slots=True)
class ClaudeSettings:
    """CLAUDE_CLI_PATH, CLAUDE_MODELS, CLAUDE_MAX_RETRIES and the shared CLI settings."""

    cli: CliSettings
    max_retries: int = 2
    name: str = NAME
    enabled_by_default: bool = False

    def build(self, context: BackendContext) -> Backend:
        """A Claude backend that spawns the CLI per request."""
        cli = self.cli.runtime(context.env)
        return CliBackend(
            self.name,
            cli,
            ClaudeLauncher(cli, max_retries=self.max_retries),
            context,
            # Claude models follow Anthropic-style XML tool calls best, whatever their alias.
            capabilities=Capabilities(default_dialect="claude_xml"),
            auth=claude_credentials,
            owner=lambda model: "anthropic",
        )


def read_configs(env: Mapping[str, str], project_root: Path | None) -> list[BackendConfig]:
    """Claude is always configured; it serves when SERVICE names it."""
    return [ClaudeSettings(CliSettings.from_env(env, "CLAUDE", project_root), parse_int(env, "CLAUDE_MAX_RETRIES", 2, minimum=0))]
