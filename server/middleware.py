"""Request-id logging and the error middleware that turns exceptions into OpenAI errors."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from server.errors import ApiError, InvalidRequest, MethodNotAllowed, NotFound, error_info

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID = web.RequestKey("request_id", str)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id to every log line of this request and log its outcome."""
    request_id = request.headers.get("X-Request-Id", "")[:64] or "req_" + secrets.token_hex(8)
    if not request_id.isascii() or not request_id.isprintable():
        request_id = "req_" + secrets.token_hex(8)
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, method=request.method, path=request.path)
    started = time.monotonic()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = 499  # the client left (or the server is stopping) before the handler returned
        raise
    finally:
        log.info("request_finished", status=status, duration_ms=round((time.monotonic() - started) * 1000, 1))


@web.middleware
async def openai_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error before a response started becomes `{"error": {...}}` with the right status."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error_response(_from_http(request, exc))
    except Exception as exc:  # noqa: BLE001 - the one place exceptions become responses
        return _error_response(exc)


def _from_http(request: web.Request, exc: web.HTTPException) -> ApiError:
    """aiohttp's own errors (no route, wrong method, body too large) as API errors."""
    if exc.status == 404:
        return NotFound(f"no route for {request.method} {request.path}")
    if exc.status == 405:
        return MethodNotAllowed(f"{request.method} is not allowed on {request.path}")
    error = InvalidRequest(exc.text or exc.reason, code=None)
    error.status = exc.status
    return error


def _error_response(exc: Exception) -> web.Response:
    # X-Request-Id is added to every response, this one included, by response_headers.stamp_response.
    info = error_info(exc)
    if info.status >= 500 and info.code == "internal_error":
        log.exception("unhandled_error")
    else:
        log.info("request_error", status=info.status, code=info.code, error_message=info.message)
    headers = exc.headers if isinstance(exc, ApiError) else {}
    return web.json_response(info.body(), status=info.status, headers=headers)
