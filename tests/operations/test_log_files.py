"""Log files: JSON lines in combined.log and error.log, and rotation that loses nothing across processes."""

from __future__ import annotations

import json
import logging
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from server.log_files import SharedRotatingFileHandler
from server.logging_setup import configure_logging


def _write_lines(path: str, tag: str, count: int) -> None:
    handler = SharedRotatingFileHandler(Path(path), max_bytes=4000, backup_count=50)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"writer-{tag}")
    logger.addHandler(handler)
    for i in range(count):
        logger.warning("%s-%05d %s", tag, i, "x" * 60)
    handler.close()


def test_rotation_across_processes_loses_no_line(tmp_path: Path) -> None:
    path = tmp_path / "combined.log"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_lines, args=(str(path), tag, 600)) for tag in ("a", "b", "c")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    files = [path, *sorted(tmp_path.glob("combined.log.[0-9]*"), key=lambda p: int(p.suffix[1:]))]
    assert len(files) > 10  # it did rotate, many times
    lines = [line for f in files for line in f.read_text().splitlines()]
    assert sorted(lines) == sorted(f"{t}-{i:05d} {'x' * 60}" for t in "abc" for i in range(600))
    assert all(f.stat().st_size < 4000 + 200 for f in files)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    structlog.reset_defaults()


def test_combined_and_error_logs_are_json(tmp_path: Path, restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json", tmp_path, secrets=("sk-secret-abcdef123",))
    log = structlog.get_logger("test")
    structlog.contextvars.bind_contextvars(request_id="req_1")
    log.debug("too_quiet")
    log.info("cli_spawned", pid=42)
    log.warning("odd_thing", detail="header was Bearer sk-secret-abcdef123")
    logging.getLogger("aiohttp.server").error("stdlib error %s", "here")
    structlog.contextvars.clear_contextvars()
    combined = [json.loads(line) for line in (tmp_path / "combined.log").read_text().splitlines()]
    errors = [json.loads(line) for line in (tmp_path / "error.log").read_text().splitlines()]
    assert [e["event"] for e in combined] == ["cli_spawned", "odd_thing", "stdlib error here"]
    assert [e["event"] for e in errors] == ["odd_thing", "stdlib error here"]
    assert combined[0]["request_id"] == "req_1" and combined[0]["level"] == "info" and combined[0]["timestamp"]
    assert errors[1]["level"] == "error" and errors[1]["logger"] == "aiohttp.server"
    everything = (tmp_path / "combined.log").read_text() + (tmp_path / "error.log").read_text() + capsys.readouterr().err
    assert "sk-secret-abcdef123" not in everything and "[redacted]" in everything
