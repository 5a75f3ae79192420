"""Finding the CLI: looked up by path or PATH, and remembered for a few seconds, not per request."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from executors.cli import probe
from executors.cli.probe import cached_executable, resolve_executable


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "_resolved", {})


def test_found_by_path_and_by_name_on_path_or_extra_dirs(tmp_path: Path) -> None:
    exe = _executable(tmp_path / "copilot")
    assert resolve_executable(str(exe)) == str(exe.resolve())
    assert resolve_executable("copilot", env={"PATH": str(tmp_path)}) == str(exe)
    assert resolve_executable("copilot", [tmp_path], env={"PATH": "/nonexistent"}) == str(exe)
    assert resolve_executable("copilot", env={"PATH": "/nonexistent"}) is None
    exe.chmod(0o600)
    assert resolve_executable(str(exe)) is None  # not executable


def test_the_answer_is_remembered_until_it_expires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(probe.time, "monotonic", lambda: now[0])
    exe = _executable(tmp_path / "copilot")
    assert cached_executable(str(exe)) == str(exe.resolve())
    exe.unlink()
    now[0] += probe.RESOLVE_TTL_S - 0.1
    assert cached_executable(str(exe)) == str(exe.resolve())  # no lookup on the request path
    now[0] += 0.2
    assert cached_executable(str(exe)) is None  # looked up again: gone
    _executable(exe)
    assert cached_executable(str(exe)) is None  # a miss is remembered too…
    now[0] += probe.RESOLVE_TTL_S
    assert cached_executable(str(exe)) == str(exe.resolve())  # …for as long


def test_each_path_setting_has_its_own_answer(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _executable(first / "claude")
    _executable(second / "claude")
    assert cached_executable("claude", env={"PATH": str(first)}) == str(first / "claude")
    assert cached_executable("claude", env={"PATH": str(second)}) == str(second / "claude")
    assert cached_executable("claude", [second], env={"PATH": "/nonexistent"}) == str(second / "claude")
