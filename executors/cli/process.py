"""A CLI child process in its own process group, with bounded stderr and group-wide kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

import structlog

from executors.cli.pipes import ChildPipes, LineTooLong, OutputConsumer
from executors.cli.spawn_gate import spawn_gate
from executors.errors import CliNotFound, CliOutputError

log = structlog.get_logger(__name__)

# One stdout line carries one JSON event; a long answer chunk can be megabytes.
LINE_LIMIT = 64 * 1024 * 1024
STDERR_WAIT_S = 2.0  # after the exit, for the last of stderr (a grandchild may hold it open)


class CliProcess:
    """One running CLI: stdin for the prompt, stdout lines for events, stderr kept for errors."""

    def __init__(self, backend: str, pid: int, transport: asyncio.SubprocessTransport, pipes: ChildPipes) -> None:
        self.backend = backend
        self.pid = pid  # also its process group id
        self._transport = transport
        self._pipes = pipes
        self._closed = False

    @classmethod
    async def spawn(
        cls, backend: str, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], background: bool = False
    ) -> CliProcess:
        """Start argv (never through a shell) in a new session so its whole group can be killed.

        `background` spawns (warm processes started ahead of demand) let every request's spawn go first.
        """
        loop = asyncio.get_running_loop()
        # fork/exec runs synchronously on the event loop (tens of ms on a busy machine): one
        # spawn at a time, so a burst of requests cannot stall every other stream behind it.
        async with spawn_gate().hold(background=background):
            try:
                transport, pipes = await loop.subprocess_exec(
                    lambda: ChildPipes(LINE_LIMIT),
                    *argv,
                    cwd=cwd,
                    env=env,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    start_new_session=True,
                )
            except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
                raise CliNotFound(backend, f"cannot start the {backend} CLI at {argv[0]!r}: {exc.strerror}") from exc
        pid = transport.get_pid()
        log.debug("cli_spawned", backend=backend, pid=pid)  # info: one line per request (request_finished)
        return cls(backend, pid, transport, pipes)

    def stderr_tail(self) -> str:
        """The last bytes the CLI wrote on stderr so far (64 KB at most)."""
        return self._pipes.stderr.decode("utf-8", "replace")

    @property
    def returncode(self) -> int | None:
        """Exit status once the process has been reaped."""
        exited = self._pipes.exited
        return exited.result() if exited.done() else None

    @property
    def exited(self) -> asyncio.Future[int]:
        """Resolves to the exit status as soon as the process exits (its pipes may stay open)."""
        return self._pipes.exited

    def consume_stdout(self, consumer: OutputConsumer) -> None:
        """Hand every stdout read to `consumer` from now on, instead of `readline`."""
        self._pipes.consume(consumer)

    async def send(self, data: bytes) -> None:
        """Write the prompt on stdin and close it so the CLI sees end of input."""
        try:
            await self.write(data)
        except BrokenPipeError:
            pass  # the CLI died early; its exit status and stderr tell why
        finally:
            self.close_stdin()

    async def write(self, data: bytes) -> None:
        """Write on stdin and keep it open; waits while the pipe is full. BrokenPipeError once it is closed."""
        room = self._pipes.write(data)
        if room is not None:
            await asyncio.shield(room)  # shared by writers: a cancelled one must not cancel it

    def close_stdin(self) -> None:
        """End of input (after what is queued)."""
        self._pipes.close_stdin()

    async def readline(self) -> bytes:
        """The next stdout line with its line ending; b"" at the end of output."""
        try:
            return await self._pipes.readline()
        except LineTooLong as exc:
            raise CliOutputError(self.backend, f"the {self.backend} CLI printed a line over {LINE_LIMIT} bytes") from exc

    async def wait(self) -> tuple[int, str]:
        """Wait for exit; return the exit status and the tail of stderr."""
        code = await asyncio.shield(self._pipes.exited)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STDERR_WAIT_S):
                await asyncio.shield(self._pipes.stderr_closed)
        return code, self.stderr_tail()

    async def wait_exit(self, timeout_s: float) -> int | None:
        """Wait up to `timeout_s` for the CLI to exit on its own; its exit status, or None."""
        try:
            async with asyncio.timeout(timeout_s):  # no extra task, unlike wait_for on 3.11
                return await asyncio.shield(self._pipes.exited)
        except TimeoutError:
            return None

    async def close(self, grace_s: float) -> None:
        """Terminate the whole process group, kill it after the grace period, reap it, close the pipes."""
        if self._closed:
            return
        self._closed = True
        if not self._pipes.exited.done():
            self._signal_group(signal.SIGTERM)
            if await self.wait_exit(grace_s) is None:
                self._signal_group(signal.SIGKILL)
                await asyncio.shield(self._pipes.exited)
            log.info("cli_stopped", backend=self.backend, pid=self.pid, returncode=self.returncode)
        # Grandchildren share the group and may outlive the CLI itself; they may hold its pipes too,
        # which closing the transport lets go of.
        self._signal_group(signal.SIGKILL)
        self._transport.close()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)
