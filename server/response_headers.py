"""Headers every response carries, added as it is prepared, so streamed answers get them too."""

from __future__ import annotations

import os

from aiohttp import web

from server.appkeys import SETTINGS
from server.cors import add_cors_headers
from server.middleware import REQUEST_ID
from server.rate_limit import RATE_HEADERS

# The response whose headers went out: after a cancellation it still tells what the client got.
PREPARED = web.RequestKey("prepared_response", web.StreamResponse)


async def stamp_response(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """`on_response_prepare`: X-Request-Id, X-Bridge-Worker, rate-limit headers, then CORS."""
    if not isinstance(request, web.Request):
        return
    request[PREPARED] = response
    request_id = request.get(REQUEST_ID)
    if request_id and "X-Request-Id" not in response.headers:
        response.headers["X-Request-Id"] = request_id
    if request.app[SETTINGS].workers > 1:
        response.headers["X-Bridge-Worker"] = str(os.getpid())
    for name, value in request.get(RATE_HEADERS, {}).items():
        response.headers.setdefault(name, value)
    add_cors_headers(request, response)  # last: it exposes the X-Bridge-* headers set above
