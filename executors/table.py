"""The backend table: every kind of backend, one line each, and building the enabled ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from executors import claude, copilot, upstream
from executors.envconfig import ConfigError
from executors.protocol import Backend, BackendConfig, BackendContext, ConfigReader

# Names SERVICE accepts for several backends at once.
SERVICE_ALIASES: Mapping[str, tuple[str, ...]] = {"both": ("copilot", "claude")}


def backend_kinds() -> dict[str, ConfigReader]:
    """Kind name → its config reader. Adding a backend is one package plus one line here."""
    return {
        "copilot": copilot.read_configs,
        "claude": claude.read_configs,
        "upstream": upstream.read_configs,
    }


def read_backend_configs(env: Mapping[str, str], project_root: Path | None = None) -> dict[str, BackendConfig]:
    """Every backend the environment configures, by name (names are unique)."""
    configs: dict[str, BackendConfig] = {}
    for reader in backend_kinds().values():
        for config in reader(env, project_root):
            if config.name in configs:
                raise ConfigError("SERVICE", f"two backends are named {config.name!r}; give each a unique name")
            configs[config.name] = config
    return configs


def build_backends(configs: Mapping[str, BackendConfig], names: Sequence[str], context: BackendContext) -> dict[str, Backend]:
    """The enabled backends, in SERVICE order."""
    return {name: configs[name].build(context) for name in names}
