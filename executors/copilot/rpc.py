"""The JSON-RPC client's vocabulary: its errors, a notification, one session's subscription, the outbox and replies to server requests."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, Self

import structlog

from executors.errors import CliFailed

log = structlog.get_logger(__name__)


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


ServerRequestHandler = Callable[[str, Any], Awaitable[Any]]


async def reject_server_requests(method: str, params: Any) -> Any:
    """Default answer to any server-to-client request: "method not found", i.e. a refusal."""
    raise RpcCallError("jsonrpc", method, -32601, f"Unhandled method {method}")


async def reply_to_server(handler: ServerRequestHandler, request_id: Any, method: str, params: Any) -> dict[str, Any]:
    """The reply to one server-to-client request: the handler's result, or its error as a JSON-RPC error."""
    try:
        return {"jsonrpc": "2.0", "id": request_id, "result": await handler(method, params)}
    except RpcCallError as exc:
        error = {"code": exc.code, "message": exc.message}
    except Exception as exc:  # noqa: BLE001 - a handler bug must still answer the server
        log.warning("jsonrpc_handler_failed", method=method, error=repr(exc))
        error = {"code": -32603, "message": "internal error"}
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


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

    def __init__(
        self, label: str, session_id: str, max_pending: int, unsubscribe: Callable[[Subscription], None]
    ) -> None:
        self.session_id = session_id
        self._label = label
        self._unsubscribe = unsubscribe
        self._max_pending = max_pending
        # A deque and one waiter, not an asyncio.Queue: one reader, and a note per answer token.
        self._notes: deque[Notification] = deque()
        self._error: JsonRpcError | None = None
        self._waiter: asyncio.Future[None] | None = None

    def push(self, note: Notification) -> None:
        """Queue a notification (called by the connection's reader)."""
        if self._error is not None:
            return
        if len(self._notes) >= self._max_pending:
            # Never block the reader (that would stall every other session): cut this one off.
            behind = f"session {self.session_id} fell {self._max_pending} notifications behind"
            self.fail(SubscriptionOverflow(self._label, behind))
            return
        self._notes.append(note)
        self._wake()

    def fail(self, error: JsonRpcError) -> None:
        """End the subscription with `error` after what is already queued."""
        if self._error is None:
            self._error = error
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Notification:
        """The next notification; notifications already received are delivered before an error."""
        while not self._notes:
            if self._error is not None:
                raise self._error  # every later get() fails the same way
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._notes.popleft()

    def __aiter__(self) -> Self:
        return self

    __anext__ = get  # endless: it ends with the connection's error, never StopAsyncIteration

    def close(self) -> None:
        """Stop routing this session's notifications here."""
        self._unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Outbox(Protocol):
    """Where frames to the server go: the child's stdin."""

    async def write(self, data: bytes) -> None:
        """Write and wait while the pipe is full."""

    def close_stdin(self) -> None:
        """End of input: the server exits."""


class StreamOutbox:
    """An asyncio StreamWriter as an Outbox."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, data: bytes) -> None:
        """Write and drain."""
        self._writer.write(data)
        await self._writer.drain()

    def close_stdin(self) -> None:
        """Close the stream."""
        self._writer.close()
