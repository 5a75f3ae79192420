"""Executors: run one CLI per request and yield typed events from its output."""

from executors.base import Executor, LaunchSpec, RunningCli
from executors.claude import ClaudeExecutor
from executors.copilot import CopilotExecutor
from executors.errors import CliError, CliFailed, CliModelRejected, CliNotFound, CliOutputError
from executors.events import CliEvent, TextDelta, UsageReport

__all__ = [
    "ClaudeExecutor",
    "CliError",
    "CliEvent",
    "CliFailed",
    "CliModelRejected",
    "CliNotFound",
    "CliOutputError",
    "CopilotExecutor",
    "Executor",
    "LaunchSpec",
    "RunningCli",
    "TextDelta",
    "UsageReport",
]
