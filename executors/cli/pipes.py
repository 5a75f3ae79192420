"""A CLI child's pipes as the event loop delivers them: stdout lines (or a consumer fed each read),
a bounded stderr tail, stdin with flow control, and the exit status the moment it is known.

asyncio's stream wrappers put a StreamReader, a task wake-up and several calls between each read
and its reader; a CLI that prints a line per answer token pays that per token. Here a read lands
in one buffer that `readline` cuts without waiting while lines are buffered, or goes straight to a
consumer (a JSON-RPC connection cuts and routes its frames in the same callback).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

STDERR_KEEP = 64 * 1024
HIGH_WATER = 1024 * 1024  # buffered stdout beyond this pauses reading until the reader catches up
COMPACT_AT = 64 * 1024  # read bytes are dropped from the buffer's front in steps at least this big


class LineTooLong(ValueError):
    """A stdout line grew past the limit without ending."""


class OutputConsumer(Protocol):
    """Takes stdout as it is read, instead of `readline`."""

    def feed(self, data: bytes) -> None:
        """One read's bytes."""

    def feed_eof(self) -> None:
        """stdout closed."""


class ChildPipes(asyncio.SubprocessProtocol):
    """The protocol of one CLI process started with `loop.subprocess_exec`."""

    def __init__(self, line_limit: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._line_limit = line_limit
        self.transport: asyncio.SubprocessTransport | None = None
        self.exited: asyncio.Future[int] = self._loop.create_future()
        self.stderr_closed: asyncio.Future[None] = self._loop.create_future()
        self.stderr = bytearray()
        self.stdout_closed = False
        self._out = bytearray()
        self._pos = 0  # where the next line starts
        self._scanned = 0  # no newline before here
        self._paused = False
        self._consumer: OutputConsumer | None = None
        self._reading: asyncio.Future[None] | None = None  # a readline waiting for data
        self._writable: asyncio.Future[None] | None = None  # set while stdin's pipe is full

    # -- asyncio.SubprocessProtocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        assert isinstance(data, bytes)
        if fd == 1:
            if self._consumer is not None:
                self._consumer.feed(data)
                return
            self._out += data
            if not self._paused and len(self._out) - self._pos > HIGH_WATER:
                self._pause_reading(True)
            self._wake_reader()
        elif fd == 2:
            self.stderr += data
            if len(self.stderr) > STDERR_KEEP:
                del self.stderr[: len(self.stderr) - STDERR_KEEP]

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self._stdout_ended()
        elif fd == 2:
            _resolve(self.stderr_closed)
        elif fd == 0:
            self.resume_writing()  # a writer waiting for room gives up: nothing reads stdin any more

    def process_exited(self) -> None:
        assert self.transport is not None
        code = self.transport.get_returncode()
        if not self.exited.done() and code is not None:
            self.exited.set_result(code)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stdout_ended()  # every pipe is closed by now; a pipe that was never opened counts too
        _resolve(self.stderr_closed)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None:
            _resolve(self._writable)

    # -- stdout
    def consume(self, consumer: OutputConsumer) -> None:
        """From now on every read goes to `consumer` (what is buffered first), and so does the end."""
        self._consumer = consumer
        pending = bytes(self._out[self._pos:])
        self._out.clear()
        self._pos = self._scanned = 0
        self._pause_reading(False)
        if pending:
            consumer.feed(pending)
        if self.stdout_closed:
            consumer.feed_eof()

    async def readline(self) -> bytes:
        """The next stdout line with its ending; the unterminated rest at the end; b"" after it."""
        while True:
            out = self._out
            end = out.find(b"\n", self._scanned)
            if end >= 0:
                line = bytes(out[self._pos:end + 1])
                self._pos = self._scanned = end + 1
                self._drop_read()
                return line
            self._scanned = len(out)
            if len(out) - self._pos > self._line_limit:
                raise LineTooLong(f"a stdout line is over {self._line_limit} bytes")
            if self.stdout_closed:
                rest = bytes(out[self._pos:])
                out.clear()
                self._pos = self._scanned = 0
                return rest
            self._pause_reading(False)  # no whole line buffered: read on, whatever the high-water mark
            self._reading = self._loop.create_future()
            try:
                await self._reading
            finally:
                self._reading = None

    # -- stdin
    def write(self, data: bytes) -> asyncio.Future[None] | None:
        """Queue `data` on stdin; a future to await while the pipe is full (None: go on).

        Raises BrokenPipeError once stdin is closed (by us, or by the CLI's end).
        """
        stdin = self._stdin()
        if stdin is None or stdin.is_closing():
            raise BrokenPipeError("the CLI's stdin is closed")
        stdin.write(data)
        writable = self._writable
        return writable if writable is not None and not writable.done() else None

    def close_stdin(self) -> None:
        """End of input for the CLI (after what is queued)."""
        stdin = self._stdin()
        if stdin is not None:
            stdin.close()

    # -- internals
    def _stdin(self) -> asyncio.WriteTransport | None:
        if self.transport is None:
            return None
        pipe = self.transport.get_pipe_transport(0)
        return pipe if isinstance(pipe, asyncio.WriteTransport) else None

    def _stdout_ended(self) -> None:
        if self.stdout_closed:
            return
        self.stdout_closed = True
        if self._consumer is not None:
            self._consumer.feed_eof()
        self._wake_reader()

    def _wake_reader(self) -> None:
        reading = self._reading
        if reading is not None:
            _resolve(reading)

    def _drop_read(self) -> None:
        out = self._out
        if self._pos == len(out):
            out.clear()
            self._pos = self._scanned = 0
        elif self._pos >= COMPACT_AT:
            del out[: self._pos]
            self._scanned -= self._pos
            self._pos = 0
        if self._paused and len(out) - self._pos <= HIGH_WATER // 2:
            self._pause_reading(False)

    def _pause_reading(self, pause: bool) -> None:
        if pause == self._paused or self.transport is None:
            return
        pipe = self.transport.get_pipe_transport(1)
        if isinstance(pipe, asyncio.ReadTransport) and not pipe.is_closing():
            if pause:
                pipe.pause_reading()
            else:
                pipe.resume_reading()
        self._paused = pause


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
