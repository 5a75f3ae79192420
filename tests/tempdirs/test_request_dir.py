"""Per-request temp dirs: private, removed on every path, stale ones swept, never inside a checkout."""

from __future__ import annotations

import os
from collections.abc import Callable
import time
from pathlib import Path

import pytest

from tempdirs import PREFIX, RequestTempDir, TempDirBaseError, prepare_base, sweep_stale


async def test_dir_is_private_and_removed_even_on_error(tmp_path: Path) -> None:
    base = prepare_base(tmp_path / "base")
    with pytest.raises(RuntimeError):
        async with RequestTempDir(base) as path:
            (path / "AGENTS.md").write_text("x")
            assert path.stat().st_mode & 0o777 == 0o700 and path.name.startswith(PREFIX)
            raise RuntimeError("boom")
    assert list(base.iterdir()) == []


def test_base_inside_a_git_checkout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    with pytest.raises(TempDirBaseError, match="TEMP_DIR_BASE"):
        prepare_base(tmp_path / "repo" / "tmp")


def test_sweep_removes_only_old_request_dirs(tmp_path: Path) -> None:
    base = prepare_base(tmp_path / "base")
    old, fresh, other = base / f"{PREFIX}old", base / f"{PREFIX}fresh", base / "keep-me"
    for path in (old, fresh, other):
        path.mkdir()
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    assert sweep_stale(base, older_than_s=600) == 1
    assert sorted(p.name for p in base.iterdir()) == ["keep-me", f"{PREFIX}fresh"]


async def test_a_clean_exit_defers_the_removal_and_a_failed_one_removes_at_once(tmp_path: Path) -> None:
    base = prepare_base(tmp_path / "base")
    deferred: list[Callable[[], None]] = []
    async with RequestTempDir(base, defer=deferred.append) as path:
        (path / "usage.json").write_text("{}")
    assert path.exists() and len(deferred) == 1  # still there: handed to the batched file work
    deferred[0]()
    assert list(base.iterdir()) == []
    with pytest.raises(RuntimeError):
        async with RequestTempDir(base, defer=deferred.append) as failed:
            raise RuntimeError("boom")
    assert not failed.exists() and len(deferred) == 1
