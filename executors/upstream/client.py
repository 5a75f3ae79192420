"""HTTP to one model server: a pooled aiohttp session, errors as BackendErrors, SSE read as it arrives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from executors.upstream.config import UpstreamSettings
from executors.upstream.errors import (
    UpstreamBadResponse,
    UpstreamRejected,
    UpstreamStreamEnded,
    UpstreamTimeout,
    UpstreamUnavailable,
    read_error_body,
)
from executors.upstream.sse import SseDecoder, SseTooLarge

CONNECT_TIMEOUT_S = 10.0  # a host that drops packets; a refused connection fails at once
LOOKUP_TIMEOUT_S = 5.0  # GET /models for discovery and /health (the catalog waits for it)


class UpstreamClient:
    """One server's base URL and key over one pooled session, opened by `open()`."""

    def __init__(self, settings: UpstreamSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._proxy = settings.proxy_address
        self._proxy_headers: dict[str, str] | None = None
        if authorization := settings.proxy_authorization():
            # An http:// request goes to the proxy as it is, so its credentials ride on it; an
            # https:// one is tunnelled, so they go on the CONNECT only, never to the server.
            if settings.base_url.startswith("https://"):
                self._proxy_headers = {"Proxy-Authorization": authorization}
            else:
                self._headers["Proxy-Authorization"] = authorization

    async def open(self) -> None:
        """Start the connection pool (once, with the app)."""
        if self._session is None:
            connect = min(CONNECT_TIMEOUT_S, self._settings.timeout_s or CONNECT_TIMEOUT_S)
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect),
                headers=self._headers,
                # limit=0: the bridge's own limits apply upstream
                connector=aiohttp.TCPConnector(limit=0, ssl=self._settings.ssl_context()),
            )

    async def close(self) -> None:
        """Close the pool and every connection in it."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def url(self, path: str) -> str:
        """The full URL of an API path such as `chat/completions`."""
        return f"{self._settings.base_url}/{path}"

    async def post(self, path: str, body: Any) -> aiohttp.ClientResponse:
        """POST JSON; the response once its status is 2xx (its body not yet read), else a BackendError."""
        data = json.dumps(body, ensure_ascii=False).encode()
        return await self._request("POST", path, data, self._settings.timeout_s)

    async def get_json(self, path: str) -> Any:
        """GET a small JSON document (the model list)."""
        timeout = min(LOOKUP_TIMEOUT_S, self._settings.timeout_s or LOOKUP_TIMEOUT_S)
        response = await self._request("GET", path, None, timeout)
        try:
            async with asyncio.timeout(timeout):
                raw = await response.read()
            return json.loads(raw)
        except ValueError:
            raise UpstreamBadResponse(self._name, f"the upstream's {path} is not JSON") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamBadResponse(self._name, f"reading the upstream's {path} failed: {exc!r}") from None
        finally:
            response.release()

    @staticmethod
    def done_with(response: aiohttp.ClientResponse, *, completed: bool) -> None:
        """Give the connection back to the pool after a whole answer; else close it, which is how
        the server learns that nobody is listening (it stops generating)."""
        if completed:
            response.release()
        else:
            response.close()

    async def read_json(self, response: aiohttp.ClientResponse) -> Any:
        """A whole JSON answer."""
        try:
            return json.loads(await response.read())
        except ValueError:
            raise UpstreamBadResponse(self._name, "the upstream's answer is not valid JSON") from None
        except aiohttp.ClientError:
            raise UpstreamBadResponse(self._name, "the upstream closed the connection before its answer ended") from None
        finally:
            response.release()

    async def events(self, response: aiohttp.ClientResponse) -> AsyncIterator[Any]:
        """Each SSE event's JSON as it arrives, until `[DONE]`; UpstreamStreamEnded at an earlier end."""
        decoder = SseDecoder()
        try:
            async for chunk in response.content.iter_any():
                for data in decoder.feed(chunk):
                    if data.strip() == "[DONE]":
                        return
                    try:
                        value = json.loads(data)
                    except ValueError:
                        raise UpstreamBadResponse(self._name, f"the upstream sent a malformed event: {data[:200]!r}") from None
                    yield value
        except SseTooLarge as exc:
            raise UpstreamBadResponse(self._name, str(exc)) from None
        except aiohttp.ClientError:
            raise UpstreamBadResponse(self._name, "the upstream closed the connection in the middle of its answer") from None
        raise UpstreamStreamEnded(self._name, "the upstream's stream ended without [DONE]")

    @property
    def _name(self) -> str:
        return self._settings.name

    def _proxy_refused(self, status: int) -> str:
        if status == 407:
            return (f"the proxy at {self._proxy} wants credentials (407); put them in "
                    f"{self._settings.prefix}PROXY as http://user:password@host:port")
        return f"the proxy at {self._proxy} refused the connection with HTTP {status}"

    async def _request(self, method: str, path: str, data: bytes | None, timeout_s: float | None) -> aiohttp.ClientResponse:
        if self._session is None:
            raise RuntimeError(f"upstream {self._name!r} used before start()")
        headers = {"Content-Type": "application/json"} if data is not None else None
        where = self._settings.base_url
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._session.request(method, self.url(path), data=data, headers=headers,
                                                       allow_redirects=False, proxy=self._proxy,
                                                       proxy_headers=self._proxy_headers)
        except aiohttp.ClientProxyConnectionError as exc:
            raise UpstreamUnavailable(self._name, f"cannot connect to the proxy at {self._proxy}: {_reason(exc)}") from None
        except aiohttp.ClientHttpProxyError as exc:  # an https upstream's CONNECT refused
            raise UpstreamUnavailable(self._name, self._proxy_refused(exc.status)) from None
        except aiohttp.ClientConnectorCertificateError as exc:
            prefix = self._settings.prefix
            raise UpstreamUnavailable(self._name, (
                f"the upstream at {where} presented a certificate that is not trusted ({exc.certificate_error}); "
                f"set {prefix}CA_FILE to the CA that signed it, or {prefix}TLS_VERIFY=false")) from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamUnavailable(self._name, f"cannot connect to the upstream at {where}: {_reason(exc)}") from None
        except (TimeoutError, aiohttp.ServerTimeoutError):
            limit = f"{timeout_s:g} s" if timeout_s else "the connect timeout"
            raise UpstreamTimeout(self._name, f"the upstream at {where} did not answer within {limit}") from None
        except aiohttp.ClientError as exc:
            raise UpstreamBadResponse(self._name, f"the upstream at {where} failed: {exc!r}") from None
        if 200 <= response.status < 300:
            return response
        if response.status == 407 and self._proxy is not None:  # the proxy's answer, not the upstream's
            response.release()
            raise UpstreamUnavailable(self._name, self._proxy_refused(407))
        try:
            raw = await response.read()
        except aiohttp.ClientError:
            raw = b""
        finally:
            response.release()
        if response.status < 400:
            raise UpstreamBadResponse(self._name, f"the upstream answered HTTP {response.status} for {path}; is the base URL {where} right?")
        raise UpstreamRejected(self._name, response.status, read_error_body(raw, response.status))


def _reason(exc: aiohttp.ClientConnectorError) -> str:
    return (exc.os_error.strerror or str(exc.os_error)) if exc.os_error else str(exc)
