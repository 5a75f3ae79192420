"""Errors a backend raises; the server maps each class to an OpenAI error in one table."""

from __future__ import annotations


class BackendError(Exception):
    """A backend could not answer; `message` is safe to show a client.

    `status` and `code_suffix` decide the OpenAI error (`<backend>_<code_suffix>`), unless
    `error_code` names the exact OpenAI code (an upstream server's own, such as
    `context_length_exceeded`); `error_param` is the request field at fault, when known.
    `retryable` is False when sending the same request again cannot help.
    """

    status = 503
    code_suffix = "execution_error"
    error_code: str | None = None
    error_param: str | None = None
    retryable = True

    def __init__(self, backend: str, message: str, *, exit_code: int | None = None, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.backend = backend
        self.message = message
        self.exit_code = exit_code
        if retryable is not None:
            self.retryable = retryable


class BackendBusy(BackendError):
    """Too many requests are already waiting for this kind of backend."""

    code_suffix = "busy"


class CliNotFound(BackendError):
    """The CLI executable could not be started (not installed, not executable)."""

    code_suffix = "spawn_error"
    retryable = False


class CliFailed(BackendError):
    """The backend ran and reported an error (auth, API error, non-zero exit)."""


class CliAuthFailed(CliFailed):
    """The backend has no valid credentials (not logged in, key rejected): an operator must act."""

    retryable = False


class CliModelRejected(CliFailed):
    """The backend or its API said the model does not exist or is not available."""

    status = 404
    retryable = False


class CliOutputError(CliFailed):
    """The backend printed something that could not be read (e.g. a line over the size limit)."""


CliError = BackendError  # the CLI backends' name for the base class
