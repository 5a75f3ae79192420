"""One private directory per request under a base that is outside any git checkout."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType

import structlog

log = structlog.get_logger(__name__)
PREFIX = "req-"


class TempDirBaseError(ValueError):
    """The configured base directory cannot be used."""


def _git_root(path: Path) -> Path | None:
    for parent in (path, *path.parents):
        if (parent / ".git").exists():
            return parent
    return None


def prepare_base(base: Path) -> Path:
    """Create the base dir (mode 0700) and refuse one inside a git checkout.

    Copilot reads AGENTS.md and CLAUDE.md from the git root, so a temp dir inside a checkout
    would leak that repository's instructions into every request.
    """
    base = base.expanduser().resolve()
    root = _git_root(base)
    if root is not None:
        raise TempDirBaseError(f"TEMP_DIR_BASE {base} is inside the git checkout {root}; choose a directory outside it")
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    return base


def sweep_stale(base: Path, older_than_s: float) -> int:
    """Remove request dirs left by crashed runs; returns how many were removed."""
    removed = 0
    cutoff = time.time() - older_than_s
    for entry in base.glob(f"{PREFIX}*"):
        try:
            if entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    if removed:
        log.info("stale_temp_dirs_removed", count=removed, base=str(base))
    return removed


def new_request_dir(base: Path) -> Path:
    """A fresh 0700 dir for one request under `base`; the caller removes it with `remove_request_dir`."""
    return Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))


def remove_request_dir(path: Path) -> None:
    """Remove a request dir and everything in it (blocking; never raises)."""
    shutil.rmtree(path, ignore_errors=True)


class RequestTempDir:
    """`async with RequestTempDir(base) as path:` a fresh 0700 dir, removed on exit.

    With `defer`, a block that ended cleanly hands the removal to it (batched file work off the
    answer's path); a block that raised, was cancelled or was closed early removes the dir at
    once, before the error travels on.
    """

    def __init__(self, base: Path, defer: Callable[[Callable[[], None]], None] | None = None) -> None:
        self._base = base
        self._defer = defer
        self.path: Path | None = None

    async def __aenter__(self) -> Path:
        self.path = new_request_dir(self._base)
        return self.path

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.path is None:
            return
        remove, self.path = partial(remove_request_dir, self.path), None
        if exc_type is None and self._defer is not None:
            self._defer(remove)
        else:
            # rmtree can take a while on big dirs; keep it off the event loop.
            await asyncio.shield(asyncio.to_thread(remove))
