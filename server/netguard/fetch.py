"""One guarded HTTP request: every hop checked, connections pinned to the checked addresses.

Each hop (the first URL and every redirect) passes the guard, which resolves the host once;
the connection then goes to exactly those checked addresses (a pinned resolver), so a second DNS
answer can never redirect it (DNS rebinding). No proxies or .netrc from the environment, no
cookies kept; credential headers are dropped when a redirect leaves the origin. The body is read
up to a cap (one byte more, to know it was cut).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
from yarl import URL

from server.netguard.guard import FetchFailed, HttpGuard, Resolver, system_resolver
from server.netguard.pinned import PinnedResolver

REDIRECTS = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie"})  # dropped when a redirect leaves the origin


class TooManyRedirects(FetchFailed):
    """The redirects went on past the limit."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """The final response: status, URL, headers, the body up to the cap, and whether it was cut."""

    status: int
    url: URL
    headers: Mapping[str, str]
    body: bytes
    truncated: bool
    content_type: str
    charset: str | None


async def guarded_fetch(
    url: URL,
    guard: HttpGuard,
    *,
    max_bytes: int,
    max_redirects: int,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    user_agent: str = "copilot-bridge",
    resolve: Resolver = system_resolver,
) -> Fetched:
    """Send the request, following redirects through the guard; raise FetchFailed/FetchRefused.

    aiohttp's own errors (connection refused, reset) are left to the caller, as is the deadline.
    """
    sent = dict(headers or {})
    pinned = PinnedResolver()
    connector = aiohttp.TCPConnector(resolver=pinned, use_dns_cache=False, force_close=True)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False, headers={"User-Agent": user_agent}
    ) as session:
        for _ in range(max_redirects + 1):
            target = await guard.check(url, resolve)
            pinned.pin(target.host, target.addresses)
            data = body.encode("utf-8") if body is not None else None
            async with session.request(method, url, headers=sent, data=data, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status not in REDIRECTS or not location:
                    return await _read(response, url, max_bytes)
            try:
                following = url.join(URL(location))
            except ValueError:
                raise FetchFailed(f"the server redirected to an invalid URL {location!r}") from None
            method, body = _redirected_method(method, response.status, body)
            if _origin(following) != _origin(url):
                sent = {k: v for k, v in sent.items() if k.lower() not in CREDENTIAL_HEADERS}
            url = following
    raise TooManyRedirects(f"more than {max_redirects} redirects")


async def _read(response: aiohttp.ClientResponse, url: URL, limit: int) -> Fetched:
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await response.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    raw = b"".join(chunks)
    return Fetched(response.status, url, _headers(response.headers), raw[:limit], len(raw) > limit,
                   response.content_type, response.charset)


def _redirected_method(method: str, status: int, body: str | None) -> tuple[str, str | None]:
    # What browsers do: 303 turns everything but HEAD into GET; 301/302 turn POST into GET.
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", None
    return method, body


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    return url.scheme, url.raw_host, url.port


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key, value in headers.items():
        if key.lower() == "set-cookie":
            continue
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged
