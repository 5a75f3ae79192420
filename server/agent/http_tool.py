"""http_request: one HTTP request to an allowed host, every hop checked, the answer capped.

The request goes through `server.netguard` (every hop checked, connections pinned to the checked
addresses, no proxies, no cookies); here the model's headers are checked, and nothing of the
bridge's own credentials leaves with a request.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from yarl import URL

from server.agent.settings import HttpToolSettings
from server.agent.tooltypes import ToolFailed, ToolRefused, ToolSpec
from server.netguard.fetch import TooManyRedirects, guarded_fetch
from server.netguard.guard import FetchFailed, FetchRefused, Resolver, system_resolver

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Headers the model may not set: they would change where or how the request goes, not what it asks.
FORBIDDEN_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-authorization",
    "proxy-connection", "te", "trailer", "upgrade", "expect",
})
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
        try:
            fetched = await guarded_fetch(
                url, self._settings.guard, max_bytes=self._settings.max_bytes,
                max_redirects=self._settings.max_redirects, method=method, headers=headers, body=body,
                user_agent=USER_AGENT, resolve=self._resolve,
            )
        except TooManyRedirects as exc:
            raise ToolFailed(f"{exc} (AGENT_HTTP_MAX_REDIRECTS)") from None
        except FetchRefused as exc:
            raise ToolRefused(str(exc)) from None
        except FetchFailed as exc:
            raise ToolFailed(str(exc)) from None
        result: dict[str, Any] = {
            "status": fetched.status,
            "url": str(fetched.url),
            "headers": dict(fetched.headers),
            "body": _body_text(fetched.body, fetched.content_type, fetched.charset),
            "truncated": fetched.truncated,
        }
        if result["body"] is None:
            result["body_omitted"] = f"{len(fetched.body)} bytes of {fetched.content_type}"
        return result


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
