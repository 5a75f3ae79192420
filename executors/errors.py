"""Errors raised while running a CLI; the server maps each class to an OpenAI error."""

from __future__ import annotations


class CliError(Exception):
    """A CLI run failed; `message` is what the CLI itself said, cleaned for a client."""

    def __init__(self, backend: str, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.backend = backend
        self.message = message
        self.exit_code = exit_code


class CliNotFound(CliError):
    """The CLI executable could not be started (not installed, not executable)."""


class CliFailed(CliError):
    """The CLI ran and reported an error (auth, API error, non-zero exit)."""


class CliModelRejected(CliFailed):
    """The CLI or its API said the model does not exist or is not available."""


class CliOutputError(CliFailed):
    """The CLI printed something the executor could not read (e.g. a line over the size limit)."""
