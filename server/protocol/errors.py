"""Errors the server raises, and the one table that maps every exception to an OpenAI error."""

from __future__ import annotations

from dataclasses import dataclass, field

from executors import BackendBusy, BackendError, CliModelRejected
from server.responses_store import StoreUnreachable


class ApiError(Exception):
    """An error with an OpenAI error body; subclasses fix the status and type.

    `retryable` is False when sending the same request again cannot help; the response then
    carries `x-should-retry: false`, which the openai SDKs obey instead of retrying.
    """

    status = 500
    type = "server_error"
    code: str | None = None
    retryable = True

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else type(self).code
        self.param = param
        self.headers = headers or {}


class InvalidRequest(ApiError):
    """400: the request body is wrong."""

    status = 400
    type = "invalid_request_error"
    code = "invalid_request"
    retryable = False


class ModelNotFound(ApiError):
    """404: no enabled backend serves this model id."""

    status = 404
    type = "invalid_request_error"
    code = "model_not_found"
    retryable = False


class UnsupportedEndpoint(ApiError):
    """404: the model's backend cannot answer this endpoint (OpenAI's status for a chat-only
    model on /v1/completions)."""

    status = 404
    type = "invalid_request_error"
    code = "unsupported_endpoint"
    retryable = False


class NotFound(ApiError):
    """404: no such route."""

    status = 404
    type = "invalid_request_error"
    code = "not_found"
    retryable = False


class AgentDisabled(ApiError):
    """404: the agent endpoints are off until the operator enables a tool."""

    status = 404
    type = "invalid_request_error"
    code = "agent_disabled"


class MethodNotAllowed(ApiError):
    """405: the route exists but not for this method."""

    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"
    retryable = False


class AuthenticationFailed(ApiError):
    """401: missing or wrong API key."""

    status = 401
    type = "authentication_error"
    code = "invalid_api_key"
    retryable = False


class RateLimited(ApiError):
    """429: too many requests for this key or address."""

    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class ServerShuttingDown(ApiError):
    """503: the server stopped before this request finished."""

    status = 503
    type = "server_error"
    code = "server_shutting_down"


class InvalidModelOutput(ApiError):
    """502: the model's answer broke what the request asked for (`param`), even after a repair turn.

    The request was fine and the bridge works: the model behind it answered wrongly, so it is
    a bad gateway, not a 422 (which tells a client to fix its request). Not retried: the
    bridge already asked the model twice, and each try costs the client a model run.
    """

    status = 502
    type = "server_error"
    code = "invalid_model_output"
    retryable = False


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What goes on the wire for one error: status, the OpenAI error object, extra headers."""

    status: int
    message: str
    type: str
    code: str | None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, dict[str, str | None]]:
        """The OpenAI error object."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


NO_RETRY = {"x-should-retry": "false"}


def error_info(exc: BaseException) -> ErrorInfo:
    """The one table from exception classes to OpenAI errors (most specific class first).

    Errors a retry cannot fix (a bad request, a CLI that is not logged in or not installed, a
    model the backend rejects, an answer that failed its repair) carry `x-should-retry: false`;
    the rest (busy, timeouts, crashes) leave retrying to the client's usual rules.
    """
    if isinstance(exc, ApiError):
        retry = {} if exc.retryable else NO_RETRY
        return ErrorInfo(exc.status, exc.message, exc.type, exc.code, exc.param, {**retry, **exc.headers})
    if isinstance(exc, StoreUnreachable):
        return ErrorInfo(503, "the response store is unreachable; retry later", "server_error", "store_unavailable")
    if isinstance(exc, BackendBusy):
        return ErrorInfo(503, exc.message, "server_error", "server_busy", headers={"Retry-After": "1"})
    if isinstance(exc, CliModelRejected):
        return ErrorInfo(404, exc.message, "invalid_request_error", "model_not_found", "model", dict(NO_RETRY))
    if isinstance(exc, BackendError):
        kind = "invalid_request_error" if 400 <= exc.status < 500 else "server_error"
        retry = {} if exc.retryable else NO_RETRY
        code = exc.error_code or f"{exc.backend}_{exc.code_suffix}"
        return ErrorInfo(exc.status, exc.message, kind, code, exc.error_param, dict(retry))
    if isinstance(exc, TimeoutError):
        return ErrorInfo(504, "the request timed out (REQUEST_TIMEOUT)", "timeout_error", "timeout")
    return ErrorInfo(500, "internal server error", "server_error", "internal_error")
