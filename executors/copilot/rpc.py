"""The JSON-RPC client's vocabulary: its errors, a notification, and one session's subscription."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Self

from executors.errors import CliFailed


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

    def __init__(
        self, label: str, session_id: str, max_pending: int, unsubscribe: Callable[[Subscription], None]
    ) -> None:
        self.session_id = session_id
        self._label = label
        self._unsubscribe = unsubscribe
        self._max_pending = max_pending
        self._queue: asyncio.Queue[Notification | JsonRpcError] = asyncio.Queue()
        self._failed = False

    def push(self, note: Notification) -> None:
        """Queue a notification (called by the connection's reader)."""
        if self._failed:
            return
        if self._queue.qsize() >= self._max_pending:
            # Never block the reader (that would stall every other session): cut this one off.
            behind = f"session {self.session_id} fell {self._max_pending} notifications behind"
            self.fail(SubscriptionOverflow(self._label, behind))
            return
        self._queue.put_nowait(note)

    def fail(self, error: JsonRpcError) -> None:
        """End the subscription with `error` after what is already queued."""
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
        self._unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
