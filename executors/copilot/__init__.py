"""GitHub Copilot CLI as a backend."""

from executors.copilot.settings import read_configs

__all__ = ["read_configs"]
