"""A JSON-RPC 2.0 client over a child process's stdin/stdout with LSP `Content-Length` framing.

It speaks to `copilot --headless --stdio` (the Copilot SDK server mode): requests are matched to
responses by id; notifications that carry a `sessionId` go to that session's subscriber queue;
requests from the server get an answer from a handler (by default a JSON-RPC error, i.e. "no").
When stdout closes, a frame is malformed, or the watched process exits, every pending call and
every subscriber fails with `ConnectionLost`, and so does every later call.

Typical use (the sessionId is chosen by the client, so subscribe before `session.create`):
`conn = JsonRpcConnection.for_cli(process)`, then `with conn.subscribe(session_id) as events:`
`await conn.request("session.create", {...})`, `session.send`, and `async for note in events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import structlog

from executors.copilot.framing import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    FrameBuffer,
    decode_message,
    encode_frame,
)
from executors.copilot.rpc import (
    ConnectionLost,
    Notification,
    Outbox,
    RpcCallError,
    ServerRequestHandler,
    StreamOutbox,
    Subscription,
    process_exit,
    reject_server_requests,
    reply_to_server,
)

if TYPE_CHECKING:
    from executors.cli.process import CliProcess

log = structlog.get_logger(__name__)

MAX_PENDING_NOTIFICATIONS = 10_000
# After the process exits, stdout may still hold its last frames; read them before failing.
EXIT_DRAIN_S = 0.5
READ_SIZE = 256 * 1024


class JsonRpcConnection:
    """One JSON-RPC peer: frames out through an `Outbox`, frames in through `feed` as they are read.

    The reads come from the process's pipe callback (`for_cli`), so each is cut into frames and
    routed right there: no reader task wakes up per read.
    """

    def __init__(
        self,
        outbox: Outbox,
        *,
        label: str = "copilot",
        handler: ServerRequestHandler = reject_server_requests,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_pending: int = MAX_PENDING_NOTIFICATIONS,
        read_events: frozenset[str] | None = None,
    ) -> None:
        self.label = label
        # Session events of other types are dropped undecoded (None: every one is read).
        self._reads = None if read_events is None else frozenset(kind.encode() for kind in read_events)
        self._outbox = outbox
        self._handler = handler
        self._frames = FrameBuffer(label, max_header_bytes, max_body_bytes)
        self._max_pending = max_pending
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._subs: dict[str, Subscription] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._write_lock = asyncio.Lock()
        self._error: ConnectionLost | None = None
        self._input_ended = asyncio.Event()  # stdout ended, or the stream broke

    @classmethod
    def for_cli(cls, process: CliProcess, **options: Any) -> JsonRpcConnection:
        """A connection on a CLI process's stdin/stdout that also ends when the process exits.

        Watching the exit matters: a grandchild in the same group may keep stdout open.
        """
        conn = cls(process, **options)
        process.consume_stdout(conn)
        conn.watch(asyncio.shield(process.exited))
        return conn

    @classmethod
    def for_process(cls, proc: asyncio.subprocess.Process, **options: Any) -> JsonRpcConnection:
        """The same on an asyncio process's streams (a task reads stdout and feeds the connection)."""
        if proc.stdin is None or proc.stdout is None:
            raise ValueError("the process needs stdin=PIPE and stdout=PIPE")
        conn = cls(StreamOutbox(proc.stdin), **options)
        conn._spawn(conn._pump(proc.stdout))
        conn.watch(process_exit(proc))
        return conn

    # -- what the server sent (OutputConsumer)
    def feed(self, data: bytes) -> None:
        """One read of the server's stdout: cut into frames, each answered or routed at once."""
        if self._error is not None:
            return
        try:
            for body in self._frames.feed(data):
                self._dispatch(body)
        except Exception as exc:  # a malformed frame (the stream cannot be trusted after it), or a bug
            if not isinstance(exc, ConnectionLost):  # which must not leave callers waiting forever
                log.exception("jsonrpc_reader_failed", label=self.label)
                exc = ConnectionLost(self.label, f"the {self.label} reader failed: {exc!r}")
            self._fail(exc)
            self._input_ended.set()

    def feed_eof(self) -> None:
        """The server's stdout closed."""
        self._fail(self._frames.eof())
        self._input_ended.set()

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(READ_SIZE):
                self.feed(data)
        except ConnectionError as exc:
            self._fail(ConnectionLost(self.label, f"reading from the {self.label} server: {exc}"))
        self.feed_eof()

    @property
    def error(self) -> ConnectionLost | None:
        """Why the connection ended, once it has."""
        return self._error

    def watch(self, exited: Awaitable[object]) -> None:
        """End the connection once `exited` (e.g. `process_exit(proc)`) completes, after a drain."""

        async def watcher() -> None:
            result = await exited
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(EXIT_DRAIN_S):
                    await self._input_ended.wait()
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
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # failed before it was awaited (a broken pipe): seen here
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
        self._raise_if_lost()
        params = {} if params is None else params
        await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def subscribe(self, session_id: str) -> Subscription:
        """Route notifications whose params.sessionId is session_id here (one subscriber each)."""
        if session_id in self._subs:
            raise ValueError(f"session {session_id} already has a subscriber")
        sub = Subscription(self.label, session_id, self._max_pending, self._unsubscribe)
        if self._error is not None:
            sub.fail(self._error)
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
            self._outbox.close_stdin()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        return self

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
        frame = encode_frame(message)
        async with self._write_lock:
            try:
                await self._outbox.write(frame)
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
            sub.fail(error)
        self._subs.clear()

    def _dispatch(self, body: bytes) -> None:
        message = decode_message(body, self.label, self._reads)
        if message is None:
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
            sub.push(note)

    async def _answer(self, request_id: Any, method: str, params: Any) -> None:
        log.info("jsonrpc_server_request", label=self.label, method=method)
        reply = await reply_to_server(self._handler, request_id, method, params)
        with contextlib.suppress(ConnectionLost):
            await self._send(reply)
