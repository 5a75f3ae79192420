"""Finding a CLI executable and running short probe commands (version, model lists)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path


def resolve_executable(name_or_path: str, extra_dirs: Sequence[Path] = (), env: Mapping[str, str] | None = None) -> str | None:
    """Absolute path of an executable given by path or by name on PATH (plus extra dirs)."""
    if os.sep in name_or_path:
        path = Path(name_or_path).expanduser()
        return str(path.resolve()) if path.is_file() and os.access(path, os.X_OK) else None
    search = (env or os.environ).get("PATH", os.defpath).split(os.pathsep)
    search += [str(d) for d in extra_dirs]
    return shutil.which(name_or_path, path=os.pathsep.join(search))


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
