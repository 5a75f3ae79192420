"""A JSON-RPC 2.0 client over a child process's stdin/stdout with LSP `Content-Length` framing.

It speaks to `copilot --headless --stdio` (the Copilot SDK server mode): requests are matched to
responses by id; notifications that carry a `sessionId` go to that session's subscriber queue;
requests from the server get an answer from a handler (by default a JSON-RPC error, i.e. "no").
When stdout closes, a frame is malformed, or the watched process exits, every pending call and
every subscriber fails with `ConnectionLost`, and so does every later call.

Typical use (the sessionId is chosen by the client, so subscribe before `session.create`):

    conn = JsonRpcConnection.for_process(proc, label="copilot")
    await conn.request("connect", {})
    with conn.subscribe(session_id) as events:
        await conn.request("session.create", {"sessionId": session_id, ...})
        await conn.request("session.send", {"sessionId": session_id, "prompt": "hi"})
        async for note in events:
            ...
    await conn.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import structlog

from executors.errors import CliFailed

log = structlog.get_logger(__name__)

MAX_HEADER_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_PENDING_NOTIFICATIONS = 10_000
# After the process exits, stdout may still hold its last frames; read them before failing.
EXIT_DRAIN_S = 0.5

ServerRequestHandler = Callable[[str, Any], Awaitable[Any]]


class JsonRpcError(CliFailed):
    """Anything that went wrong talking JSON-RPC to a CLI."""


class RpcCallError(JsonRpcError):
    """The server answered a request with a JSON-RPC error object."""

    def __init__(
        self, backend: str, method: str, code: int, message: str, data: Any = None
    ) -> None:
        super().__init__(backend, message)
        self.method = method
        self.code = code
        self.data = data


class ConnectionLost(JsonRpcError):
    """The server is gone (stdout closed, process exited) or broke the framing."""


class ProtocolViolation(ConnectionLost):
    """A frame was malformed or over a size limit; the stream cannot be trusted after it."""


class SubscriptionOverflow(JsonRpcError):
    """A subscriber fell more than `max_pending` notifications behind and was cut off."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One server notification, e.g. method `session.event` with params {sessionId, event}."""

    method: str
    params: Any

    @property
    def event(self) -> dict[str, Any] | None:
        """The `event` of a `session.event` notification, else None."""
        if self.method == "session.event" and isinstance(self.params, dict):
            event = self.params.get("event")
            return event if isinstance(event, dict) else None
        return None


async def reject_server_requests(method: str, params: Any) -> Any:
    """Default answer to any server-to-client request: "method not found", i.e. a refusal."""
    raise RpcCallError("jsonrpc", method, -32601, f"Unhandled method {method}")


async def process_exit(proc: asyncio.subprocess.Process, poll_s: float = 0.1) -> int:
    """proc's exit status as soon as it exits.

    `proc.wait()` also waits until every pipe is closed, which a grandchild holding stdout can
    delay forever; the return code is known at once.
    """
    while proc.returncode is None:
        await asyncio.sleep(poll_s)
    return proc.returncode


class Subscription:
    """The notifications of one sessionId, in arrival order; fails once the connection is lost."""

    def __init__(self, conn: JsonRpcConnection, session_id: str, max_pending: int) -> None:
        self.session_id = session_id
        self._conn = conn
        self._max_pending = max_pending
        self._queue: asyncio.Queue[Notification | JsonRpcError] = asyncio.Queue()
        self._failed = False

    def _push(self, note: Notification) -> None:
        if self._failed:
            return
        if self._queue.qsize() >= self._max_pending:
            # Never block the reader (that would stall every other session): cut this one off.
            behind = f"session {self.session_id} fell {self._max_pending} notifications behind"
            self._fail(SubscriptionOverflow(self._conn.label, behind))
            return
        self._queue.put_nowait(note)

    def _fail(self, error: JsonRpcError) -> None:
        if not self._failed:
            self._failed = True
            self._queue.put_nowait(error)

    async def get(self) -> Notification:
        """The next notification; notifications already received are delivered before an error."""
        item = await self._queue.get()
        if isinstance(item, JsonRpcError):
            self._queue.put_nowait(item)  # every later get() fails the same way
            raise item
        return item

    def __aiter__(self) -> AsyncIterator[Notification]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Notification]:
        while True:
            yield await self.get()

    def close(self) -> None:
        """Stop routing this session's notifications here."""
        self._conn._unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class JsonRpcConnection:
    """One JSON-RPC peer on a reader (child stdout) and writer (child stdin); all I/O is async."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        label: str = "copilot",
        handler: ServerRequestHandler = reject_server_requests,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_pending: int = MAX_PENDING_NOTIFICATIONS,
    ) -> None:
        self.label = label
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._max_header = max_header_bytes
        self._max_body = max_body_bytes
        self._max_pending = max_pending
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._subs: dict[str, Subscription] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._write_lock = asyncio.Lock()
        self._error: ConnectionLost | None = None
        self._reader_task: asyncio.Task[None] | None = None

    def start(self) -> Self:
        """Start reading (needs a running event loop); calling it again does nothing."""
        if self._reader_task is None:
            self._reader_task = self._spawn(self._read_loop())
        return self

    @classmethod
    def for_process(cls, proc: asyncio.subprocess.Process, **options: Any) -> JsonRpcConnection:
        """A started connection on proc's stdin/stdout that also ends when proc exits.

        Watching the exit matters: a grandchild in the same group may keep stdout open.
        """
        if proc.stdin is None or proc.stdout is None:
            raise ValueError("the process needs stdin=PIPE and stdout=PIPE")
        conn = cls(proc.stdout, proc.stdin, **options).start()
        conn.watch(process_exit(proc))
        return conn

    @property
    def error(self) -> ConnectionLost | None:
        """Why the connection ended, once it has."""
        return self._error

    def watch(self, exited: Awaitable[object]) -> None:
        """End the connection once `exited` (e.g. `process_exit(proc)`) completes, after a drain."""

        async def watcher() -> None:
            result = await exited
            if self._reader_task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._reader_task), EXIT_DRAIN_S)
            code = result if isinstance(result, int) else None
            exited_msg = f"the {self.label} server exited ({result})"
            self._fail(ConnectionLost(self.label, exited_msg, exit_code=code))

        self._spawn(watcher())

    async def request(
        self, method: str, params: Any = None, *, timeout: float | None = None
    ) -> Any:
        """Send a request and return its `result`.

        Raises RpcCallError (an error answer), ConnectionLost (now or while waiting) or
        TimeoutError (no answer within `timeout` seconds; the call is forgotten, not cancelled).
        """
        self.start()
        self._raise_if_lost()
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        params = {} if params is None else params
        try:
            await self._send({"jsonrpc": "2.0", "id": request_id, "method": method,
                              "params": params})
            async with asyncio.timeout(timeout):
                message = await future
        except ConnectionLost as exc:  # a fresh instance per caller, so tracebacks stay apart
            raise type(exc)(self.label, exc.message, exit_code=exc.exit_code) from exc
        finally:
            self._pending.pop(request_id, None)
        error = message.get("error")
        if error is None:
            return message.get("result")
        if not isinstance(error, dict):
            raise RpcCallError(self.label, method, -32603, str(error))
        code = error.get("code")
        raise RpcCallError(self.label, method, code if isinstance(code, int) else -32603,
                           str(error.get("message", "")), error.get("data"))

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer expected)."""
        self.start()
        self._raise_if_lost()
        params = {} if params is None else params
        await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def subscribe(self, session_id: str) -> Subscription:
        """Route notifications whose params.sessionId is session_id here (one subscriber each)."""
        if session_id in self._subs:
            raise ValueError(f"session {session_id} already has a subscriber")
        sub = Subscription(self, session_id, self._max_pending)
        if self._error is not None:
            sub._fail(self._error)
        else:
            self._subs[session_id] = sub
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        if self._subs.get(sub.session_id) is sub:
            del self._subs[sub.session_id]

    async def close(self) -> None:
        """Close stdin (the server exits at EOF), stop reading, fail whatever still waits."""
        self._fail(ConnectionLost(self.label, "the connection was closed"))
        with contextlib.suppress(OSError, RuntimeError):
            self._writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- internals
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _raise_if_lost(self) -> None:
        if self._error is not None:
            lost = self._error
            raise type(lost)(self.label, lost.message, exit_code=lost.exit_code) from lost

    async def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        async with self._write_lock:
            try:
                self._writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                await self._writer.drain()
            except (ConnectionError, RuntimeError) as exc:  # broken pipe, or a closed transport
                lost = ConnectionLost(self.label, f"cannot write to the {self.label} server: {exc}")
                self._fail(lost)
                raise lost from exc

    def _fail(self, error: ConnectionLost) -> None:
        if self._error is not None:
            return
        self._error = error
        log.info("jsonrpc_connection_lost", label=self.label, reason=error.message,
                 pending=len(self._pending), subscribers=len(self._subs))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        for sub in self._subs.values():
            sub._fail(error)
        self._subs.clear()

    async def _read_loop(self) -> None:
        try:
            while True:
                body = await self._read_frame()
                self._dispatch(body)
        except ConnectionLost as exc:
            self._fail(exc)
        except asyncio.IncompleteReadError:
            self._fail(ConnectionLost(self.label, f"the {self.label} server stopped mid-frame"))
        except ConnectionError as exc:
            self._fail(ConnectionLost(self.label, f"reading from the {self.label} server: {exc}"))
        except Exception as exc:  # a bug here must not leave callers waiting forever
            self._fail(ConnectionLost(self.label, f"the {self.label} reader failed: {exc!r}"))
            raise

    async def _read_frame(self) -> bytes:
        length: int | None = None
        header_bytes = 0
        while True:
            try:
                line = await self._reader.readline()
            except ValueError as exc:  # a line over the stream's own limit
                raise ProtocolViolation(self.label, "a frame header line is too long") from exc
            if not line:
                raise ConnectionLost(self.label, f"the {self.label} server closed stdout")
            header_bytes += len(line)
            if header_bytes > self._max_header:
                too_long = f"a frame header is over {self._max_header} bytes"
                raise ProtocolViolation(self.label, too_long)
            if line in (b"\r\n", b"\n"):
                if length is None:
                    raise ProtocolViolation(self.label, "a frame has no Content-Length header")
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError as exc:
                    bad = f"bad Content-Length {value.strip()!r}"
                    raise ProtocolViolation(self.label, bad) from exc
        if length < 0 or length > self._max_body:
            too_big = f"a frame of {length} bytes is over {self._max_body}"
            raise ProtocolViolation(self.label, too_big)
        return await self._reader.readexactly(length)

    def _dispatch(self, body: bytes) -> None:
        try:
            message = json.loads(body)
        except ValueError:
            # The framing is intact, so the stream stays usable; the frame itself is lost.
            log.warning("jsonrpc_bad_json", label=self.label, size=len(body))
            return
        if not isinstance(message, dict):
            log.warning("jsonrpc_bad_message", label=self.label, kind=type(message).__name__)
            return
        method = message.get("method")
        if isinstance(method, str):
            if "id" in message:
                self._spawn(self._answer(message["id"], method, message.get("params")))
            else:
                self._route(Notification(method, message.get("params")))
            return
        request_id = message.get("id")
        future = self._pending.get(request_id) if isinstance(request_id, int) else None
        if future is None:
            log.debug("jsonrpc_unmatched_response", label=self.label, id=message.get("id"))
        elif not future.done():
            future.set_result(message)

    def _route(self, note: Notification) -> None:
        session_id = note.params.get("sessionId") if isinstance(note.params, dict) else None
        sub = self._subs.get(session_id) if isinstance(session_id, str) else None
        if sub is not None:
            sub._push(note)

    async def _answer(self, request_id: Any, method: str, params: Any) -> None:
        log.info("jsonrpc_server_request", label=self.label, method=method)
        try:
            result = await self._handler(method, params)
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "result": result}
        except RpcCallError as exc:
            error = {"code": exc.code, "message": exc.message}
            reply = {"jsonrpc": "2.0", "id": request_id, "error": error}
        except Exception as exc:  # noqa: BLE001 - a handler bug must still answer the server
            log.warning("jsonrpc_handler_failed", label=self.label, method=method, error=repr(exc))
            error = {"code": -32603, "message": "internal error"}
            reply = {"jsonrpc": "2.0", "id": request_id, "error": error}
        with contextlib.suppress(ConnectionLost):
            await self._send(reply)
