"""GitHub Copilot CLI as a backend."""

from executors.copilot.backend import read_configs

__all__ = ["read_configs"]
