"""Record what the tests read from the bridge, over aiohttp and httpx, to check it per test.

`WireLog` holds the exchanges of one test; `wire_log_active` makes it the one the hooks write to
(the autouse fixture in `tests/openapi/fixtures.py` does that around every test). The hooks:
- `CheckedResponse`: an aiohttp `ClientResponse` class (`ClientSession(response_class=…)`) whose
  body reader copies every byte the test reads;
- `checked_httpx_client()`: an httpx `AsyncClient` for the openai SDK whose transport does the same.
Only what a test reads is recorded; a body it stopped reading early is checked frame by frame,
but not for its end.
"""

from __future__ import annotations

import contextlib
import importlib
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.streams import AsyncStreamIterator, ChunkTupleAsyncStreamIterator
from openai import DefaultAsyncHttpxClient

from tests.openapi.validator import Violation, check_http

# The openai SDK ships on `httpx` or, lately, its fork `httpx2`: use the one it was built on.
httpx: Any = importlib.import_module(
    next(c for c in DefaultAsyncHttpxClient.__mro__ if c.__name__ == "AsyncClient").__module__.split(".")[0]
)


@dataclass(slots=True)
class Exchange:
    """One response a test received: what it was, and the body bytes the test read."""

    method: str
    path: str
    status: int
    content_type: str
    content_encoding: str = ""  # set when `body` holds the bytes still encoded
    body: bytearray = field(default_factory=bytearray)
    complete: bool = False  # the test read up to the end of the body

    def violations(self) -> list[Violation]:
        """What the schema check finds in this exchange."""
        body = bytes(self.body)
        if self.content_encoding not in ("", "identity"):
            if not (self.complete and self.content_encoding in ("gzip", "deflate")):
                return []  # a compressed body read in part (or in another coding) cannot be decoded here
            body = zlib.decompress(body, wbits=47)  # 47: zlib or gzip header, detected
        return check_http(self.method, self.path, self.status, self.content_type, body, complete=self.complete)


@dataclass(slots=True)
class WireLog:
    """The exchanges of one test."""

    exchanges: list[Exchange] = field(default_factory=list)

    def add(self, method: str, path: str, status: int, content_type: str, content_encoding: str = "") -> Exchange:
        """Start recording one response (`content_encoding` when the recorded bytes are still encoded)."""
        exchange = Exchange(method, path, status, content_type, content_encoding)
        self.exchanges.append(exchange)
        return exchange

    def violations(self) -> list[Violation]:
        """Every violation in every exchange, in the order the responses came."""
        return [v for exchange in self.exchanges for v in exchange.violations()]


_active: list[WireLog] = []


@contextlib.contextmanager
def wire_log_active(log: WireLog) -> Iterator[WireLog]:
    """Make `log` the one responses are recorded into while the block runs."""
    _active.append(log)
    try:
        yield log
    finally:
        _active.remove(log)


def active_log() -> WireLog | None:
    """The log of the running test (None outside one)."""
    return _active[-1] if _active else None


def record_exchange(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Record a whole response read by some other client (urllib, http.client) into the test's log."""
    log = active_log()
    if log is not None:
        exchange = log.add(method, path, status, content_type)
        exchange.body += body
        exchange.complete = True


# --- aiohttp --------------------------------------------------------------------------------


class _TeeReader:
    """Wraps a response's `StreamReader`: every read method copies what it returns."""

    def __init__(self, inner: aiohttp.StreamReader, exchange: Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # exception(), at_eof(), on_eof(), … as they are

    def _seen(self, data: bytes) -> bytes:
        self._exchange.body += data
        self._exchange.complete = self._inner.at_eof()
        return data

    async def read(self, n: int = -1) -> bytes:
        return self._seen(await self._inner.read(n))

    async def readline(self, **kwargs: Any) -> bytes:
        return self._seen(await self._inner.readline(**kwargs))

    async def readuntil(self, separator: bytes = b"\n", **kwargs: Any) -> bytes:
        return self._seen(await self._inner.readuntil(separator, **kwargs))

    async def readany(self) -> bytes:
        return self._seen(await self._inner.readany())

    async def readexactly(self, n: int) -> bytes:
        return self._seen(await self._inner.readexactly(n))

    async def readchunk(self) -> tuple[bytes, bool]:
        data, end_of_chunk = await self._inner.readchunk()
        return self._seen(data), end_of_chunk

    def read_nowait(self, n: int = -1) -> bytes:
        return self._seen(self._inner.read_nowait(n))

    def __aiter__(self) -> AsyncStreamIterator[bytes]:
        return AsyncStreamIterator(self.readline)

    def iter_chunked(self, n: int) -> AsyncStreamIterator[bytes]:
        return AsyncStreamIterator(lambda: self.read(n))

    def iter_any(self) -> AsyncStreamIterator[bytes]:
        return AsyncStreamIterator(self.readany)

    def iter_chunks(self) -> ChunkTupleAsyncStreamIterator:
        return ChunkTupleAsyncStreamIterator(self)  # type: ignore[arg-type]


class CheckedResponse(aiohttp.ClientResponse):
    """A `ClientResponse` whose body, as far as it is read, goes into the active `WireLog`."""

    async def start(self, connection: Any) -> CheckedResponse:
        await super().start(connection)
        log = active_log()
        if log is not None:
            exchange = log.add(self.method, self.url.path, self.status, self.headers.get("Content-Type", ""))
            exchange.complete = self.content.at_eof()  # an empty body is read already
            self.content = _TeeReader(self.content, exchange)  # type: ignore[assignment]
        return self


def checked_session(**kwargs: Any) -> aiohttp.ClientSession:
    """An `aiohttp.ClientSession` whose responses are checked like the test client's."""
    return aiohttp.ClientSession(response_class=CheckedResponse, **kwargs)


# --- httpx (the openai SDK) -----------------------------------------------------------------


class _TeeStream(httpx.AsyncByteStream):  # type: ignore[misc]
    def __init__(self, inner: Any, exchange: Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._exchange.body += chunk
            yield chunk
        self._exchange.complete = True

    async def aclose(self) -> None:
        await self._inner.aclose()


class _TeeTransport(httpx.AsyncBaseTransport):  # type: ignore[misc]
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def handle_async_request(self, request: Any) -> Any:
        response = await self._inner.handle_async_request(request)
        log = active_log()
        if log is not None:
            headers = response.headers  # the transport's bytes are as sent: still compressed, if they were
            exchange = log.add(request.method, request.url.path, response.status_code,
                               headers.get("Content-Type", ""), headers.get("Content-Encoding", ""))
            response.stream = _TeeStream(response.stream, exchange)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def checked_httpx_client(**kwargs: Any) -> Any:
    """The openai SDK's default async client, with a transport that records what it returns."""
    return DefaultAsyncHttpxClient(transport=_TeeTransport(httpx.AsyncHTTPTransport()), **kwargs)
