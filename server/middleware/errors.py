"""The error middleware: every exception before a response started becomes an OpenAI error response."""

from __future__ import annotations

import structlog
from aiohttp import web

from server.keys import FACTS
from server.middleware import Handler
from server.protocol.errors import ApiError, InvalidRequest, MethodNotAllowed, NotFound, error_info

log = structlog.get_logger(__name__)


@web.middleware
async def openai_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error before a response started becomes `{"error": {...}}` with the right status."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error_response(request, _from_http(request, exc))
    except Exception as exc:  # noqa: BLE001 - the one place exceptions become responses
        return _error_response(request, exc)


def _from_http(request: web.Request, exc: web.HTTPException) -> ApiError:
    """aiohttp's own errors (no route, wrong method, body too large) as API errors."""
    if exc.status == 404:
        return NotFound(f"no route for {request.method} {request.path}")
    if exc.status == 405:
        return MethodNotAllowed(f"{request.method} is not allowed on {request.path}")
    error = InvalidRequest(exc.text or exc.reason, code=None)
    error.status = exc.status
    return error


def _error_response(request: web.Request, exc: Exception) -> web.Response:
    # X-Request-Id is added to every response, this one included, by middleware.headers.stamp_response.
    info = error_info(exc)
    if info.status >= 500 and info.code == "internal_error":
        log.exception("unhandled_error")
    else:
        log.info("request_error", status=info.status, code=info.code, error_message=info.message)
    request[FACTS].error = info.body()["error"]
    return web.json_response(info.body(), status=info.status, headers=info.headers)
