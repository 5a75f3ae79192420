"""WORKERS=N: a parent process that forks N servers sharing one port (SO_REUSEPORT) and minds them.

The parent serves nothing. It checks the port is free, forks the workers, forwards SIGTERM/SIGINT
as SIGTERM, restarts a worker that dies (backing off when one keeps dying at once), and on
shutdown waits for the workers' own drain, killing stragglers after SHUTDOWN_GRACE plus a margin.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

import structlog

from executors.envconfig import ConfigError
from server.metrics import forget_worker
from server.settings import Settings

log = structlog.get_logger(__name__)
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
WATCHED = STOP_SIGNALS | {signal.SIGCHLD}
FAST_EXIT_S = 5.0  # a worker that dies sooner than this counts as failing at start-up
MAX_FAST_FAILURES = 5
EXIT_CONFIG = 2
PR_SET_PDEATHSIG = 1


def claim_port(settings: Settings) -> Settings:
    """Fail early (ConfigError) if HOST:PORT is taken; PORT=0 becomes one concrete free port."""
    if not hasattr(socket, "SO_REUSEPORT") or not sys.platform.startswith("linux"):
        raise ConfigError("WORKERS", "several workers need SO_REUSEPORT load balancing (Linux); use WORKERS=1")
    infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    # Bound without SO_REUSEPORT, so a server already on the port (even another bridge) makes this fail.
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError("PORT", f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
        port = probe.getsockname()[1]
    return dataclasses.replace(settings, port=port)


def _die_with_parent(parent: int) -> None:
    # If the parent is SIGKILLed nobody would stop the workers, which would keep the port forever.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def _spawn(settings: Settings, serve_worker: Callable[[Settings], int], parent_mask: set[int | signal.Signals]) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, parent_mask)
        _die_with_parent(parent)
        code = serve_worker(settings)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a worker must never return into the parent's loop
        log.exception("worker_crashed")
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


class Supervisor:
    """The parent's state: live workers, restarts due, and whether we are stopping."""

    def __init__(self, settings: Settings, serve_worker: Callable[[Settings], int]) -> None:
        self.settings = settings
        self.serve_worker = serve_worker
        self.workers: dict[int, float] = {}  # pid → start time
        self.restarts: list[float] = []  # monotonic times at which to start a replacement
        self.fast_failures = 0
        self.kill_at: float | None = None
        self.exit_code = 0
        self._mask: set[int | signal.Signals] = set()

    def run(self) -> int:
        """Start the workers and mind them until they have all exited; returns the exit status."""
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
        try:
            for _ in range(self.settings.workers):
                self._start()
            log.info("workers_started", workers=sorted(self.workers), parent=os.getpid())
            while self.workers or (self.restarts and self.kill_at is None):
                self._tick()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        log.info("workers_exited", exit_code=self.exit_code)
        return self.exit_code

    def _start(self) -> None:
        pid = _spawn(self.settings, self.serve_worker, self._mask)
        self.workers[pid] = time.monotonic()

    def _tick(self) -> None:
        now = time.monotonic()
        if self.kill_at is None:
            while self.restarts and self.restarts[0] <= now:
                self.restarts.pop(0)
                self._start()
        deadlines = [now + 1.0, *self.restarts[:1], *([self.kill_at] if self.kill_at else [])]
        info = signal.sigtimedwait(WATCHED, max(0.01, min(deadlines) - now))
        if info is not None and info.si_signo in STOP_SIGNALS:
            self.stop(f"signal {signal.Signals(info.si_signo).name}")
        self._reap()
        if self.kill_at is not None and time.monotonic() >= self.kill_at:
            for pid in self.workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            log.warning("workers_killed", pids=sorted(self.workers))
            self.kill_at = float("inf")

    def stop(self, reason: str) -> None:
        """Forward SIGTERM once; the workers drain for SHUTDOWN_GRACE, then we kill what is left."""
        if self.kill_at is not None:
            return
        margin = self.settings.kill_grace_ms / 1000 + 5
        self.kill_at = time.monotonic() + self.settings.shutdown_grace_s + margin
        self.restarts.clear()
        log.info("workers_stopping", reason=reason, workers=sorted(self.workers))
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _reap(self) -> None:
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.workers.clear()
                return
            if pid == 0:
                return
            started = self.workers.pop(pid, None)
            if started is None:
                continue
            code = _exit_code(status)
            forget_worker(pid)
            if self.kill_at is not None:
                log.info("worker_exited", pid=pid, code=code)
                continue
            self._replace(pid, code, time.monotonic() - started)

    def _replace(self, pid: int, code: int, lived_s: float) -> None:
        log.warning("worker_died", pid=pid, code=code, lived_s=round(lived_s, 2))
        if code == EXIT_CONFIG:
            self.exit_code = EXIT_CONFIG
            self.stop("a worker could not start (configuration)")
            return
        self.fast_failures = self.fast_failures + 1 if lived_s < FAST_EXIT_S else 0
        if self.fast_failures > MAX_FAST_FAILURES:
            self.exit_code = 1
            self.stop("workers keep dying at start-up")
            return
        delay = min(10.0, 0.1 * 2**self.fast_failures) if self.fast_failures else 0.0
        self.restarts.append(time.monotonic() + delay)
        self.restarts.sort()


def run_workers(settings: Settings, serve_worker: Callable[[Settings], int]) -> int:
    """Supervise `settings.workers` forked processes each running `serve_worker(settings)`."""
    return Supervisor(settings, serve_worker).run()
