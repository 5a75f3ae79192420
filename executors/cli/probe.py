"""Finding a CLI executable and running short probe commands (version, model lists)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

# Every one-shot request spawns its CLI: its path is looked up again only this often (a removed
# CLI still fails cleanly at spawn, a newly installed one is found within this time).
RESOLVE_TTL_S = 5.0
_resolved: dict[tuple[str, tuple[Path, ...], str], tuple[float, str | None]] = {}


def resolve_executable(name_or_path: str, extra_dirs: Sequence[Path] = (), env: Mapping[str, str] | None = None) -> str | None:
    """Absolute path of an executable given by path or by name on PATH (plus extra dirs)."""
    if os.sep in name_or_path:
        path = Path(name_or_path).expanduser()
        return str(path.resolve()) if path.is_file() and os.access(path, os.X_OK) else None
    search = (env or os.environ).get("PATH", os.defpath).split(os.pathsep)
    search += [str(d) for d in extra_dirs]
    return shutil.which(name_or_path, path=os.pathsep.join(search))


def cached_executable(name_or_path: str, extra_dirs: Sequence[Path] = (), env: Mapping[str, str] | None = None) -> str | None:
    """`resolve_executable`, remembered for RESOLVE_TTL_S per name, extra dirs and PATH."""
    key = (name_or_path, tuple(extra_dirs), (env or os.environ).get("PATH", os.defpath))
    now = time.monotonic()
    hit = _resolved.get(key)
    if hit is not None and now < hit[0]:
        return hit[1]
    path = resolve_executable(name_or_path, extra_dirs, env)
    _resolved[key] = (now + RESOLVE_TTL_S, path)
    return path


async def run_probe(
    argv: Sequence[str], *, env: Mapping[str, str], timeout_s: float, cwd: Path | None = None
) -> tuple[int, str, str] | None:
    """Run a short command in its own group; None when it cannot start or times out."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except OSError:
        return None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout_s)
    except BaseException as exc:
        # Timed out or cancelled: kill the group, then read the pipes to EOF so nothing leaks.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.communicate()
        await asyncio.sleep(0)  # let the transport's connection_lost callback run and close it
        if isinstance(exc, TimeoutError):
            return None
        raise
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # anything the probe left behind in its group
    return proc.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
