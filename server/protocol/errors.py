"""Errors the server raises, and the one table that maps every exception to an OpenAI error."""

from __future__ import annotations

from dataclasses import dataclass, field

from executors import BackendBusy, BackendError, CliModelRejected
from server.responses_store import StoreUnreachable


class ApiError(Exception):
    """An error with an OpenAI error body; subclasses fix the status and type."""

    status = 500
    type = "server_error"
    code: str | None = None

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


class ModelNotFound(ApiError):
    """404: no enabled backend serves this model id."""

    status = 404
    type = "invalid_request_error"
    code = "model_not_found"


class NotFound(ApiError):
    """404: no such route."""

    status = 404
    type = "invalid_request_error"
    code = "not_found"


class MethodNotAllowed(ApiError):
    """405: the route exists but not for this method."""

    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


class AuthenticationFailed(ApiError):
    """401: missing or wrong API key."""

    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


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


def error_info(exc: BaseException) -> ErrorInfo:
    """The one table from exception classes to OpenAI errors (most specific class first)."""
    if isinstance(exc, ApiError):
        return ErrorInfo(exc.status, exc.message, exc.type, exc.code, exc.param, dict(exc.headers))
    if isinstance(exc, StoreUnreachable):
        return ErrorInfo(503, "the response store is unreachable; retry later", "server_error", "store_unavailable")
    if isinstance(exc, BackendBusy):
        return ErrorInfo(503, exc.message, "server_error", "server_busy", headers={"Retry-After": "1"})
    if isinstance(exc, CliModelRejected):
        return ErrorInfo(404, exc.message, "invalid_request_error", "model_not_found", "model")
    if isinstance(exc, BackendError):
        kind = "invalid_request_error" if 400 <= exc.status < 500 else "server_error"
        return ErrorInfo(exc.status, exc.message, kind, f"{exc.backend}_{exc.code_suffix}")
    if isinstance(exc, TimeoutError):
        return ErrorInfo(504, "the request timed out (REQUEST_TIMEOUT)", "timeout_error", "timeout")
    return ErrorInfo(500, "internal server error", "server_error", "internal_error")
