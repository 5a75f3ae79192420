"""One long-lived `copilot --headless --stdio` server and one session per request on it.

Per request: `session.create` (our system prompt in replace mode, no tools, the request's own
empty temp dir), `session.send` of the rendered conversation, events until `session.idle`;
`session.abort` when the answer is abandoned; `session.delete` on every path, then the session's
state is forgotten on disk even if the server could not do it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from executors.background import Background
from executors.cli.config import CliConfig
from executors.cli.process import CliProcess
from executors.cli.procstat import group_rss_bytes
from executors.cli.transcript import DEFAULT_SYSTEM_PROMPT, render_transcript
from executors.copilot.jsonrpc import JsonRpcConnection
from executors.copilot.rpc import ConnectionLost, JsonRpcError
from executors.copilot.session_events import SessionDecoder
from executors.copilot.session_params import create_params, send_params, server_argv
from executors.copilot.state import forget_session
from executors.errors import CliFailed, CliNotFound
from executors.events import BackendEvent
from executors.request import BackendRequest

log = structlog.get_logger(__name__)
BACKEND = "copilot"
PROTOCOL_VERSION = 3  # what this client speaks (copilot 1.0.102; the SDK pins the same)
CALL_TIMEOUT_S = 30.0  # create/send/delete answer within milliseconds when the server is well
WARM_UP_READS = frozenset({"assistant.turn_start", "session.error", "session.idle"})
# A turn brings some 30 session events besides one or two per answer delta; the rest are
# dropped by the connection undecoded.
READ_EVENTS = SessionDecoder.READS | WARM_UP_READS
ABORT_TIMEOUT_S = 3.0  # a turn ends within milliseconds of session.abort (measured 8 ms)
WARM_UP_TIMEOUT_S = 10.0
# Events a session may have waiting while its client reads slowly: two per token of a long
# answer, a few hundred bytes each (so at most some tens of MB).
MAX_PENDING_EVENTS = 100_000


class HeadlessUnavailable(CliFailed):
    """The headless server could not be started; `unsupported` when this CLI lacks the mode."""

    def __init__(self, message: str, *, unsupported: bool = False, exit_code: int | None = None) -> None:
        super().__init__(BACKEND, message, exit_code=exit_code)
        self.unsupported = unsupported


class HeadlessServer:
    """A started, connected headless server: its process group, connection and counters."""

    def __init__(self, process: CliProcess, conn: JsonRpcConnection, *, config: CliConfig, cwd: Path,
                 home: Path, provider: Mapping[str, Any] | None, version: str, files: Background) -> None:
        self.process = process
        self.conn = conn
        self.version = version
        self.started_at = time.monotonic()
        self.active = 0  # sessions answering now
        self.served = 0  # sessions created so far
        self.retiring: str | None = None  # why it takes no new sessions (recycled, broken)
        self.rss_bytes: int | None = None
        self.exited: asyncio.Future[int] = process.exited  # shared: add callbacks, never await it unshielded
        self._config = config
        self._cwd = cwd  # the server's own empty working dir (the temp base)
        self._home = home  # COPILOT_HOME, where session state lives
        self._provider = provider
        self._files = files  # session-state removal rides with the server's other batched file work
        self._closing = False
        self._cleanups: set[asyncio.Task[None]] = set()
        self.on_retire: Callable[[HeadlessServer], None] | None = None  # the runner replaces it
        self.warmed = False

    @classmethod
    async def start(cls, config: CliConfig, *, cwd: Path, home: Path, provider: Mapping[str, Any] | None,
                    background: bool, timeout_s: float, files: Background) -> HeadlessServer:
        """Spawn the server, connect, and check that it speaks our protocol version."""
        exe = config.executable()
        if exe is None:
            raise CliNotFound(BACKEND, f"the copilot CLI was not found ({config.path!r}); install @github/copilot or set COPILOT_CLI_PATH")
        env = config.child_env(COPILOT_AUTO_UPDATE="false")
        process = await CliProcess.spawn(BACKEND, server_argv(exe, env), cwd=cwd, env=env, background=background)
        conn = JsonRpcConnection.for_cli(process, label=BACKEND, max_pending=MAX_PENDING_EVENTS,
                                        read_events=READ_EVENTS)
        try:
            hello = await conn.request("connect", {}, timeout=timeout_s)
        except (JsonRpcError, TimeoutError) as exc:
            raise await _start_failure(process, conn, config.grace_s, exc) from exc
        except BaseException:  # cancelled (shutdown) while connecting: stop what was spawned
            await asyncio.shield(_stop(process, conn, config.grace_s))
            raise
        version = hello.get("protocolVersion") if isinstance(hello, dict) else None
        if version != PROTOCOL_VERSION:
            await conn.close()
            await process.close(config.grace_s)
            raise HeadlessUnavailable(f"the copilot headless server speaks protocol {version!r}, not {PROTOCOL_VERSION}", unsupported=True)
        log.info("copilot_headless_started", pid=process.pid, version=hello.get("version"))
        return cls(process, conn, config=config, cwd=cwd, home=home, provider=provider, version=str(hello.get("version")),
                   files=files)

    @property
    def closing(self) -> bool:
        """True once the bridge began stopping it."""
        return self._closing

    @property
    def alive(self) -> bool:
        """True while the process runs and the connection holds."""
        return self.process.returncode is None and self.conn.error is None and not self._closing

    async def answer(self, request: BackendRequest, workdir: Path) -> AsyncGenerator[BackendEvent, None]:
        """One request as one session: create, send, stream until idle; abort and delete as needed."""
        rendered = render_transcript(request)
        session_id = str(uuid.uuid4())
        params = create_params(session_id, request.model, rendered.system_prompt or DEFAULT_SYSTEM_PROMPT, workdir,
                               self._provider, effort=request.reasoning_effort)
        decoder = SessionDecoder()
        created = False
        self.active += 1
        self.served += 1
        try:
            with self.conn.subscribe(session_id) as notes:
                created = True  # from here on the session may exist on the server
                await self._call("session.create", params)
                await self._call("session.options.update", {"sessionId": session_id, "skipCustomInstructions": True})
                await self._call("session.send", send_params(session_id, rendered))
                async for note in notes:
                    if (payload := note.event) is not None:
                        for event in decoder.feed(payload):
                            yield event
                    if decoder.done:
                        break
            for event in decoder.finish():
                yield event
        except ConnectionLost as exc:
            raise await self.failure(exc) from exc
        finally:
            self.active -= 1
            if created:
                # In the background: the client is not kept waiting, and a cancelled request
                # cannot cut the cleanup short.
                task = asyncio.get_running_loop().create_task(self._end_session(session_id, aborted=not decoder.done))
                self._cleanups.add(task)
                task.add_done_callback(self._cleanups.discard)

    async def _call(self, method: str, params: Mapping[str, Any]) -> Any:
        return await self.conn.request(method, params, timeout=CALL_TIMEOUT_S)

    async def _end_session(self, session_id: str, *, aborted: bool) -> None:
        if aborted and self.alive:
            try:
                await self.conn.request("session.abort", {"sessionId": session_id}, timeout=ABORT_TIMEOUT_S)
            except TimeoutError:
                self.retire("a session ignored session.abort")  # its turn may run on: replace the server
            except JsonRpcError:
                pass
        if self.alive:
            with contextlib.suppress(JsonRpcError, TimeoutError):
                await self.conn.request("session.delete", {"sessionId": session_id}, timeout=CALL_TIMEOUT_S)
        # Also when the server died or failed to delete: its dir, lock file and store rows go.
        self._files.run_blocking(partial(forget_session, self._home, session_id))

    async def failure(self, exc: ConnectionLost) -> CliFailed:
        """The error a request gets when the server went away under it: exit status and stderr."""
        for _ in range(20):  # stdout closes just before the exit status is known
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        code = self.process.returncode
        tail = self.process.stderr_tail().strip()[-2000:]
        if code is None:
            self.retire("its connection broke")
            message = f"the copilot server connection failed: {exc.message}"
        else:
            message = f"the copilot server stopped while answering (exit status {code})"
        return CliFailed(BACKEND, f"{message}: {tail}" if tail else message, exit_code=code)

    async def warm_up(self, model: str) -> None:
        """A throw-away session whose model call goes nowhere, so the first real one is fast.

        The first session after start-up pays a lazy initialisation (0.15-0.5 s, measured); its
        provider is a closed loopback port, and it is aborted as soon as its turn starts, so no
        model is ever called and nothing is billed.
        """
        session_id = str(uuid.uuid4())
        provider = {"type": "openai", "baseUrl": f"http://127.0.0.1:{_closed_port()}/v1"}
        params = create_params(session_id, model, DEFAULT_SYSTEM_PROMPT, self._cwd, provider)
        try:
            with self.conn.subscribe(session_id) as notes:
                await self._call("session.create", params)
                await self._call("session.send", {"sessionId": session_id, "prompt": "warm-up"})
                async with asyncio.timeout(WARM_UP_TIMEOUT_S):
                    async for note in notes:
                        kind = (note.event or {}).get("type")
                        if kind in WARM_UP_READS:
                            break
            await self._end_session(session_id, aborted=True)
        except (JsonRpcError, TimeoutError) as exc:
            log.info("copilot_headless_warm_up_failed", error=str(exc))
            await asyncio.to_thread(forget_session, self._home, session_id)
        self.warmed = True

    def retire(self, reason: str) -> None:
        """Take no new sessions; the runner replaces it and stops it once its sessions end."""
        if self.retiring is None:
            self.retiring = reason
            log.info("copilot_headless_retiring", pid=self.process.pid, reason=reason, served=self.served)
            if self.on_retire is not None:
                self.on_retire(self)

    async def measure(self) -> int | None:
        """Refresh and return the RSS of the whole process group (off the event loop)."""
        self.rss_bytes = await asyncio.to_thread(group_rss_bytes, self.process.pid)
        return self.rss_bytes

    async def close(self) -> None:
        """End of input (the server exits at once), then the whole group is stopped and reaped."""
        if self._closing:
            return
        self._closing = True
        if self._cleanups:  # let sessions being deleted finish (the connection's end fails the rest)
            await asyncio.wait(set(self._cleanups), timeout=self._config.grace_s + 1)
        await self.conn.close()
        await asyncio.gather(*self._cleanups, return_exceptions=True)
        await self.process.wait_exit(self._config.grace_s)  # stdin closed: it exits by itself
        await self.process.close(self._config.grace_s)
        log.info("copilot_headless_stopped", pid=self.process.pid, served=self.served)

    def describe(self) -> dict[str, Any]:
        """Its state for /health."""
        return {"pid": self.process.pid, "age_s": round(time.monotonic() - self.started_at, 1),
                "sessions_served": self.served, "sessions_active": self.active,
                "rss_mb": None if self.rss_bytes is None else self.rss_bytes // (1024 * 1024),
                "version": self.version, "warmed": self.warmed, "retiring": self.retiring}


async def _start_failure(process: CliProcess, conn: JsonRpcConnection, grace_s: float, exc: Exception) -> HeadlessUnavailable:
    for _ in range(10):  # let an exiting CLI's status and last stderr lines arrive
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    await conn.close()
    await process.close(grace_s)
    tail = process.stderr_tail().strip()
    # Our argv is fixed: a usage error means this CLI has no headless mode (or other flags).
    unsupported = "unexpected argument" in tail or "unknown option" in tail
    reason = tail[-2000:] or (str(exc) or type(exc).__name__)
    return HeadlessUnavailable(f"the copilot headless server did not start: {reason}", unsupported=unsupported,
                               exit_code=process.returncode)


async def _stop(process: CliProcess, conn: JsonRpcConnection, grace_s: float) -> None:
    await conn.close()
    await process.close(grace_s)


def _closed_port() -> int:
    # A port nothing listens on: bound and released at once (loopback only).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
