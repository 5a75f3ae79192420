"""The Copilot backend: its settings (COPILOT_*), credentials check and one-shot runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from executors.cli.auth import find_credentials, home_of
from executors.cli.backend import CliBackend
from executors.cli.settings import CliSettings
from executors.copilot.launcher import CopilotLauncher
from executors.owners import guess_owner
from executors.protocol import Backend, BackendConfig, BackendContext, Capabilities

NAME = "copilot"
_AUTH_ENV = ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN", "COPILOT_PROVIDER_BASE_URL")


def copilot_credentials(env: Mapping[str, str]) -> tuple[bool, str]:
    """A token in the environment, a BYOK provider, or a logged-in user in copilot's or gh's config."""
    home = home_of(env)
    copilot_home = Path(env.get("COPILOT_HOME") or home / ".copilot")
    # copilot writes config.json on its first run; only a /login adds these keys to it.
    files = [
        (copilot_home / "config.json", ('"loggedInUsers"', '"lastLoggedInUser"')),
        (home / ".config" / "gh" / "hosts.yml", ("oauth_token",)),
    ]
    return find_credentials(env, _AUTH_ENV, files)


@dataclass(frozen=True, slots=True)
class CopilotSettings:
    """COPILOT_CLI_PATH, COPILOT_MODELS and the shared CLI settings."""

    cli: CliSettings
    name: str = NAME
    enabled_by_default: bool = True

    def build(self, context: BackendContext) -> Backend:
        """A Copilot backend that spawns the CLI per request."""
        cli = self.cli.runtime(context.env)
        return CliBackend(
            self.name,
            cli,
            CopilotLauncher(cli),
            context,
            capabilities=Capabilities(),
            auth=copilot_credentials,
            owner=lambda model: guess_owner(model, "github-copilot"),
        )


def read_configs(env: Mapping[str, str], project_root: Path | None) -> list[BackendConfig]:
    """Copilot is always configured (it serves when SERVICE names it, or by default)."""
    return [CopilotSettings(CliSettings.from_env(env, "COPILOT", project_root))]
