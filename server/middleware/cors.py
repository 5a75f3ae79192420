"""CORS for the origins in CORS_ORIGINS: preflights answered here, allow headers on every response."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiohttp import web
from multidict import CIMultiDict

from server.keys import SETTINGS
from server.middleware import Handler

ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
ALLOW_HEADERS = ("Authorization", "Content-Type", "x-api-key", "X-Request-Id", "OpenAI-Organization", "OpenAI-Project")
EXPOSE_HEADERS = (
    "X-Request-Id",
    "Retry-After",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
)
MAX_AGE_S = 600
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


def allowed_origin(origin: str, origins: Sequence[str]) -> str | None:
    """The Access-Control-Allow-Origin value for `origin`, or None if it is not allowed."""
    if not origins or not origin:
        return None
    if "*" in origins:
        return "*"
    return origin if origin in {o.rstrip("/") for o in origins} else None


def _requested_headers(request: web.Request) -> list[str]:
    # Browser SDKs add their own headers (x-stainless-*, openai-beta); an allowed origin may send them.
    raw = request.headers.get("Access-Control-Request-Headers", "")
    return [h.strip() for h in raw.split(",") if _TOKEN.match(h.strip())]


def _append_vary(headers: CIMultiDict[str], value: str) -> None:
    present = [v.strip().lower() for v in headers.get("Vary", "").split(",") if v.strip()]
    if value.lower() not in present and "*" not in present:
        headers["Vary"] = ", ".join([*(v.strip() for v in headers.get("Vary", "").split(",") if v.strip()), value])


@web.middleware
async def cors_preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a preflight from an allowed origin with 204 (before auth: browsers send no key here)."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return await handler(request)
    allow = allowed_origin(request.headers.get("Origin", ""), request.app[SETTINGS].cors_origins)
    if allow is None:
        return await handler(request)
    extra = [h for h in _requested_headers(request) if h.lower() not in {a.lower() for a in ALLOW_HEADERS}]
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Origin": allow,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ", ".join([*ALLOW_HEADERS, *extra]),
            "Access-Control-Max-Age": str(MAX_AGE_S),
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        },
    )


def add_cors_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """On any response (JSON, error or stream) about to be sent: allow an allowed Origin to read it."""
    origins = request.app[SETTINGS].cors_origins if isinstance(request, web.Request) else ()
    if not origins:
        return
    _append_vary(response.headers, "Origin")
    allow = allowed_origin(request.headers.get("Origin", ""), origins)
    if allow is None or "Access-Control-Allow-Origin" in response.headers:
        return
    response.headers["Access-Control-Allow-Origin"] = allow
    bridge = [name for name in response.headers if name.lower().startswith("x-bridge-")]
    response.headers["Access-Control-Expose-Headers"] = ", ".join(dict.fromkeys([*EXPOSE_HEADERS, *bridge]))
