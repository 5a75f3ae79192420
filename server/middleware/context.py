"""The request's facts object and request id, bound to every log line; the outcome logged at the end."""

from __future__ import annotations

import asyncio
import secrets

import structlog
from aiohttp import web

from server.facts import RequestFacts
from server.keys import FACTS, METRICS
from server.metrics import Metrics
from server.middleware import Handler

log = structlog.get_logger(__name__)


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-Id", "")[:64]
    if given and given.isascii() and given.isprintable():
        return given
    return "req_" + secrets.token_hex(8)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Create the request's facts, bind its id to every log line of the request; log and count its outcome."""
    facts = RequestFacts(_request_id(request), request.method, request.path, client=request.remote)
    request[FACTS] = facts
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=facts.request_id, method=request.method, path=request.path)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = 499  # the client left (or the server is stopping) before the handler returned
        raise
    finally:
        # After this task step, i.e. once aiohttp has handed the response to the socket: the
        # answer does not wait for its own log line and metrics.
        asyncio.get_running_loop().call_soon(_finished, facts, status, request.app.get(METRICS))


def _finished(facts: RequestFacts, status: int, metrics: Metrics | None) -> None:
    """Log and count a request's outcome (its context, request id included, is still bound)."""
    log.info("request_finished", status=status, duration_ms=round(facts.elapsed_s() * 1000, 1))
    if metrics is not None:
        metrics.observe(facts, status)
