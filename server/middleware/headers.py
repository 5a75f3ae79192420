"""Headers every response carries, added as it is prepared, so streamed answers get them too."""

from __future__ import annotations

import os

from aiohttp import web

from server.keys import FACTS, RATE_HEADERS, SETTINGS
from server.middleware.cors import add_cors_headers


async def stamp_response(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """`on_response_prepare`: X-Request-Id, X-Bridge-Fallbacks, X-Bridge-Worker, rate-limit
    headers, then CORS.

    It also records the status that went out, so a request cancelled later still logs what
    the client got. A stream's headers go out with its first event, by when the backend has
    reported the fallbacks it took.
    """
    if not isinstance(request, web.Request):
        return
    facts = request.get(FACTS)
    if facts is not None:
        facts.status = response.status
        facts.streamed = not isinstance(response, web.Response)
        if "X-Request-Id" not in response.headers:
            response.headers["X-Request-Id"] = facts.request_id
        if facts.fallbacks:
            response.headers["X-Bridge-Fallbacks"] = ", ".join(dict.fromkeys(facts.fallbacks))
    if request.app[SETTINGS].workers > 1:
        response.headers["X-Bridge-Worker"] = str(os.getpid())
    for name, value in request.get(RATE_HEADERS, {}).items():
        response.headers.setdefault(name, value)
    add_cors_headers(request, response)  # last: it exposes the X-Bridge-* headers set above
