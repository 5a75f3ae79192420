"""API keys: `Authorization: Bearer <key>` or `x-api-key`, checked in constant time against every key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from aiohttp import web

from server.keys import FACTS, SETTINGS
from server.middleware import Handler
from server.protocol.errors import AuthenticationFailed

OPEN_PATHS = frozenset({"/health"})


def presented_key(request: web.Request) -> str | None:
    """The key the client sent, from a Bearer token or the x-api-key header."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "").strip() or None


def key_matches(presented: str, keys: Sequence[str]) -> bool:
    """True if `presented` is one of `keys`; every key is compared, so timing says nothing."""
    given = presented.encode("utf-8", "surrogatepass")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.encode("utf-8", "surrogatepass"))
    return matched


def key_fingerprint(key: str) -> str:
    """A short, stable, one-way name for a key (shared by every bridge process)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


@web.middleware
async def require_api_key(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Raise AuthenticationFailed unless the request carries a configured key (when keys are set)."""
    keys = request.app[SETTINGS].api_keys
    # /health stays open for probes; OPTIONS carries no key in a CORS preflight and no route serves it.
    if not keys or request.path in OPEN_PATHS or request.method == "OPTIONS":
        return await handler(request)
    presented = presented_key(request)
    challenge = {"WWW-Authenticate": "Bearer"}
    if presented is None:
        raise AuthenticationFailed(
            "no API key provided: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'", headers=challenge
        )
    if not key_matches(presented, keys):
        raise AuthenticationFailed("incorrect API key provided", headers=challenge)
    # Who the request counts as (rate limits, stored responses, metrics): a fingerprint, never the key.
    request[FACTS].api_key_id = key_fingerprint(presented)
    return await handler(request)
