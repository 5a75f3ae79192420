"""A CLI child process in its own process group, with bounded stderr and group-wide kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import structlog

from executors.errors import CliNotFound, CliOutputError

log = structlog.get_logger(__name__)

# One stdout line carries one JSON event; a long answer chunk can be megabytes.
LINE_LIMIT = 64 * 1024 * 1024
STDERR_KEEP = 64 * 1024
PIPES_EOF_S = 1.0  # after the group was killed, its pipes end at once


class CliProcess:
    """One running CLI: stdin for the prompt, stdout lines for events, stderr kept for errors."""

    def __init__(self, backend: str, proc: asyncio.subprocess.Process) -> None:
        self.backend = backend
        self._proc = proc
        assert proc.stdout is not None
        self._stdout = proc.stdout
        self._stderr = bytearray()
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        self._closed = False

    @classmethod
    async def spawn(
        cls, backend: str, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], background: bool = False
    ) -> CliProcess:
        """Start argv (never through a shell) in a new session so its whole group can be killed.

        `background` spawns (warm processes started ahead of demand) let every request's spawn go first.
        """
        # fork/exec runs synchronously on the event loop (tens of ms on a busy machine): one
        # spawn at a time, so a burst of requests cannot stall every other stream behind it.
        async with spawn_gate().hold(background=background):
            try:
                proc = await asyncio.create_subprocess_exec(
                    *argv,
                    cwd=cwd,
                    env=dict(env),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    start_new_session=True,
                    limit=LINE_LIMIT,
                )
            except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
                raise CliNotFound(backend, f"cannot start the {backend} CLI at {argv[0]!r}: {exc.strerror}") from exc
        log.debug("cli_spawned", backend=backend, pid=proc.pid)  # info: one line per request (request_finished)
        return cls(backend, proc)

    @property
    def pid(self) -> int:
        """The CLI's pid, which is also its process group id."""
        return self._proc.pid

    @property
    def raw(self) -> asyncio.subprocess.Process:
        """The asyncio process (for a protocol spoken over its stdin and stdout)."""
        return self._proc

    def stderr_tail(self) -> str:
        """The last STDERR_KEEP bytes the CLI wrote on stderr so far."""
        return self._stderr.decode("utf-8", "replace")

    @property
    def returncode(self) -> int | None:
        """Exit status once the process has been reaped."""
        return self._proc.returncode

    async def send(self, data: bytes) -> None:
        """Write the prompt on stdin and close it so the CLI sees end of input."""
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            await self.write(data)
        finally:
            stdin.close()

    async def write(self, data: bytes) -> None:
        """Write on stdin and keep it open."""
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(data)
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the CLI died early; its exit status and stderr tell why

    async def readline(self) -> bytes:
        """The next stdout line with its line ending; b"" at the end of output."""
        try:
            return await self._stdout.readline()
        except ValueError as exc:  # LimitOverrunError surfaces as ValueError from readline
            raise CliOutputError(self.backend, f"the {self.backend} CLI printed a line over {LINE_LIMIT} bytes") from exc

    async def wait(self) -> tuple[int, str]:
        """Wait for exit; return the exit status and the tail of stderr."""
        code = await self._proc.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._stderr_task), timeout=2)
        return code, self._stderr.decode("utf-8", "replace")

    async def wait_exit(self, timeout_s: float) -> int | None:
        """Wait up to `timeout_s` for the CLI to exit on its own; its exit status, or None."""
        try:
            async with asyncio.timeout(timeout_s):  # no extra task, unlike wait_for on 3.11
                return await self._proc.wait()
        except TimeoutError:
            return None

    async def close(self, grace_s: float) -> None:
        """Terminate the whole process group, kill it after the grace period, and reap."""
        if self._closed:
            return
        self._closed = True
        if self._proc.returncode is None:
            self._signal_group(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._proc.wait(), timeout=grace_s)
            except TimeoutError:
                self._signal_group(signal.SIGKILL)
                await self._proc.wait()
            log.info("cli_stopped", backend=self.backend, pid=self.pid, returncode=self._proc.returncode)
        # Grandchildren share the group and may outlive the CLI itself.
        self._signal_group(signal.SIGKILL)
        await self._read_to_eof(PIPES_EOF_S)

    async def _read_to_eof(self, timeout_s: float) -> None:
        # Reading both pipes to their end is what closes asyncio's transports; left unread (the
        # answer ends at the result line), they would close only if the loop ran on long enough.
        try:
            async with asyncio.timeout(timeout_s):  # a process outside the group may hold a pipe
                while await self._stdout.read(65536):
                    pass
                await asyncio.shield(self._stderr_task)
        except (TimeoutError, ValueError, ConnectionError):
            pass
        except RuntimeError:  # a reader of its own (a protocol client) still reads stdout: it ends it
            pass
        finally:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    async def _drain_stderr(self) -> None:
        # Read stderr continuously so a chatty CLI never blocks on a full pipe.
        stderr = self._proc.stderr
        assert stderr is not None
        while chunk := await stderr.read(65536):
            self._stderr += chunk
            if len(self._stderr) > STDERR_KEEP:
                del self._stderr[: len(self._stderr) - STDERR_KEEP]


class SpawnGate:
    """One spawn at a time; a background spawn waits while any request's spawn is pending."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._urgent = 0
        self._calm = asyncio.Event()  # set while no request waits to spawn
        self._calm.set()

    @asynccontextmanager
    async def hold(self, *, background: bool = False) -> AsyncIterator[None]:
        """Hold the gate for one spawn."""
        if background:
            await self._acquire_background()
        else:
            self._urgent += 1
            self._calm.clear()
            try:
                await self._lock.acquire()
            finally:
                self._urgent -= 1
                if not self._urgent:
                    self._calm.set()
        try:
            yield
        finally:
            self._lock.release()

    async def _acquire_background(self) -> None:
        while True:
            await self._calm.wait()
            await self._lock.acquire()
            if not self._urgent:
                return
            self._lock.release()  # a request arrived while this one queued: it goes first


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SpawnGate] = weakref.WeakKeyDictionary()


def spawn_gate() -> SpawnGate:
    """One gate per event loop (tests run many loops in one process)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = SpawnGate()
    return gate
