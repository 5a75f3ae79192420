"""Claude Code CLI as a backend."""

from executors.claude.settings import read_configs

__all__ = ["read_configs"]
