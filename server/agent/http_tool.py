"""http_request: one HTTP request to an allowed host, every hop checked, the answer capped.

Each hop (the first URL and every redirect) passes the guard, which resolves the host once;
the connection then goes to exactly those checked addresses (a pinned resolver), so a second DNS
answer can never redirect it (DNS rebinding). No proxies or .netrc from the environment, no
cookies kept, and nothing of the bridge's own credentials leaves with a request.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from yarl import URL

from server.agent.guard import Resolver, system_resolver
from server.agent.pinned import PinnedResolver
from server.agent.settings import HttpToolSettings
from server.agent.tooltypes import ToolFailed, ToolRefused, ToolSpec

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Headers the model may not set: they would change where or how the request goes, not what it asks.
FORBIDDEN_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-authorization",
    "proxy-connection", "te", "trailer", "upgrade", "expect",
})
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie"})  # dropped when a redirect leaves the origin
USER_AGENT = "copilot-bridge-agent"
TEXT_SUFFIXES = ("json", "xml", "javascript", "x-www-form-urlencoded")

SPEC = ToolSpec(
    name="http_request",
    description="Send one HTTP request and get the status, headers and body text back. Only hosts the operator allowed can be reached.",
    parameters={
        "type": "object",
        "properties": {
            "method": {"type": "string", "enum": list(METHODS), "description": "default GET"},
            "url": {"type": "string", "description": "absolute http:// or https:// URL"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": {"type": "string", "description": "request body text"},
        },
        "required": ["url"],
        "additionalProperties": False,
    },
)


class HttpRequest:
    """The http_request tool, under the operator's HTTP settings."""

    def __init__(self, settings: HttpToolSettings, secrets: Sequence[str] = (), resolve: Resolver = system_resolver) -> None:
        self._settings = settings
        self._secrets = tuple(s for s in secrets if len(s) >= 8)
        self._resolve = resolve

    @property
    def spec(self) -> ToolSpec:
        """The tool's name, description and schema."""
        return SPEC

    async def run(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """`{"status", "url", "headers", "body", "truncated"}` of the final response."""
        method = str(arguments.get("method") or "GET").upper()
        headers = {str(k): str(v) for k, v in (arguments.get("headers") or {}).items()}
        body = arguments.get("body")
        try:
            url = URL(str(arguments["url"]))
        except ValueError as exc:
            raise ToolFailed(f"not a valid URL: {exc}") from None
        bad = sorted(h for h in headers if h.lower() in FORBIDDEN_HEADERS)
        if bad:
            raise ToolRefused(f"the header {bad[0]!r} cannot be set")
        if any(c in text for text in (*headers, *headers.values()) for c in "\r\n\0"):
            raise ToolRefused("header names and values cannot contain line breaks")
        self._check_secrets([str(url), *headers, *headers.values(), body or ""])
        try:
            async with asyncio.timeout(self._settings.timeout_s):
                return await self._fetch(method, url, headers, body)
        except TimeoutError:
            raise ToolFailed(f"no complete answer within {self._settings.timeout_s:g} s (AGENT_HTTP_TIMEOUT)") from None
        except aiohttp.ClientError as exc:
            raise ToolFailed(f"the request failed: {exc or type(exc).__name__}") from None

    def _check_secrets(self, parts: Sequence[str]) -> None:
        if any(secret in part for secret in self._secrets for part in parts):
            raise ToolRefused("the request would carry one of the bridge's own credentials; it was not sent")

    async def _fetch(self, method: str, url: URL, headers: dict[str, str], body: str | None) -> dict[str, Any]:
        pinned = PinnedResolver()
        connector = aiohttp.TCPConnector(resolver=pinned, use_dns_cache=False, force_close=True)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False, headers={"User-Agent": USER_AGENT}
        ) as session:
            for _ in range(self._settings.max_redirects + 1):
                target = await self._settings.guard.check(url, self._resolve)
                pinned.pin(target.host, target.addresses)
                data = body.encode("utf-8") if body is not None else None
                async with session.request(method, url, headers=headers, data=data, allow_redirects=False) as response:
                    location = response.headers.get("Location")
                    if response.status not in REDIRECTS or not location:
                        return await self._result(response, url)
                try:
                    following = url.join(URL(location))
                except ValueError:
                    raise ToolFailed(f"the server redirected to an invalid URL {location!r}") from None
                method, body = _redirected_method(method, response.status, body)
                if _origin(following) != _origin(url):
                    headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
                url = following
        raise ToolFailed(f"more than {self._settings.max_redirects} redirects (AGENT_HTTP_MAX_REDIRECTS)")

    async def _result(self, response: aiohttp.ClientResponse, url: URL) -> dict[str, Any]:
        limit = self._settings.max_bytes
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = await response.content.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
        result: dict[str, Any] = {
            "status": response.status,
            "url": str(url),
            "headers": _headers(response.headers),
            "body": None,
            "truncated": len(raw) > limit,
        }
        raw = raw[:limit]
        result["body"] = _body_text(raw, response.content_type, response.charset)
        if result["body"] is None:
            result["body_omitted"] = f"{len(raw)} bytes of {response.content_type}"
        return result


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


def _body_text(raw: bytes, content_type: str, charset: str | None) -> str | None:
    """The body as text: decoded by its charset when it says it is text, else only when it is valid UTF-8."""
    kind = content_type.lower()
    if kind.startswith("text/") or kind.endswith(TEXT_SUFFIXES):
        try:
            codec = codecs.lookup(charset or "utf-8").name
        except LookupError:
            codec = "utf-8"
        return raw.decode(codec, "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None  # binary: an image, an archive…
