"""LOG_REQUESTS: one JSON file per request under LOG_DIR/requests/YYYY-MM-DD/, pruned by age."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from executors import Background
from server.facts import RequestFacts
from server.keys import BACKGROUND, FACTS, SETTINGS
from server.middleware import Handler
from server.settings import Settings

log = structlog.get_logger(__name__)
SKIP_PATHS = frozenset({"/health"})  # probes every few seconds would bury the real requests
REDACTED_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie"})
PRUNE_EVERY_S = 24 * 3600
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def prune_request_logs(root: Path, keep_days: int, today: date) -> int:
    """Remove day directories older than `keep_days` (today counts as one); returns how many."""
    removed = 0
    for entry in root.glob("????-??-??"):
        try:
            day = date.fromisoformat(entry.name)
        except ValueError:
            continue
        if (today - day).days >= keep_days and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def log_file_name(request_id: str) -> str:
    """`req-<id>.json`, safe as a file name whatever the client sent as X-Request-Id."""
    safe = _UNSAFE.sub("_", request_id).lstrip(".") or "unnamed"
    return f"req-{safe.removeprefix('req_')}.json"


def _parse_json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _finish_and_write(folder: Path, record: dict[str, Any], request_raw: bytes | None, response_raw: bytes | None,
                      keep_request: bool, keep_response: bool) -> None:
    """Runs in a worker thread: parse bodies, write the file (0600: it may hold prompts)."""
    if keep_request:
        record["request_body"] = _parse_json(request_raw)
    if keep_response:
        record["response_body"] = _parse_json(response_raw)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = json.dumps(record, ensure_ascii=False, indent=1).encode()
    path = folder / log_file_name(record["request_id"])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # a client reused its X-Request-Id
        fd = os.open(path.with_name(f"{path.stem}-{secrets.token_hex(4)}.json"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


class RequestLogWriter:
    """Writes request records off the event loop and prunes old days; `aclose()` flushes.

    The records ride with the server's other blocking clean-up (`executors.Background`): one
    worker-thread hand-off a second carries them all, not one hand-off per request.
    """

    def __init__(self, settings: Settings, background: Background) -> None:
        self.root = settings.log_dir / "requests"
        self._settings = settings
        self._background = background

    def submit(self, record: dict[str, Any], request_raw: bytes | None, response_raw: bytes | None) -> None:
        """Queue one record; the response does not wait for the disk."""
        folder = self.root / record["started_at"][:10]
        self._background.run_blocking(partial(self._write, folder, record, request_raw, response_raw))

    def _write(self, folder: Path, record: dict[str, Any], request_raw: bytes | None, response_raw: bytes | None) -> None:
        """Runs in a worker thread."""
        s = self._settings
        try:
            _finish_and_write(folder, record, request_raw, response_raw, s.log_request_body, s.log_response_body)
        except OSError as exc:
            log.warning("request_log_write_failed", error=str(exc))

    async def prune_forever(self) -> None:
        """Prune now, then once a day."""
        while True:
            removed = await asyncio.to_thread(
                prune_request_logs, self.root, self._settings.log_retention_days, datetime.now(UTC).date()
            )
            if removed:
                log.info("request_logs_pruned", days_removed=removed)
            await asyncio.sleep(PRUNE_EVERY_S)

    async def aclose(self) -> None:
        """Wait for records still queued or being written."""
        await self._background.drain()


REQUEST_LOG = web.AppKey("request_log", RequestLogWriter)


async def request_log_ctx(app: web.Application) -> AsyncIterator[None]:
    """Own the writer and its daily prune task for the app's lifetime (nothing when LOG_REQUESTS is off)."""
    settings = app[SETTINGS]
    if not settings.log_requests:
        yield
        return
    writer = RequestLogWriter(settings, app[BACKGROUND])
    app[REQUEST_LOG] = writer
    pruner = asyncio.create_task(writer.prune_forever())
    try:
        yield
    finally:
        pruner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruner
        await writer.aclose()


def _record(request: web.Request, facts: RequestFacts, settings: Settings, status: int, cancelled: bool) -> dict[str, Any]:
    """The request's log record, read from its facts."""
    return {
        "request_id": facts.request_id,
        "started_at": facts.started_at.isoformat(),
        "ended_at": datetime.now(UTC).isoformat(),
        "duration_ms": round(facts.elapsed_s() * 1000, 1),
        "method": facts.method,
        "path": facts.path,
        "query": request.query_string or None,
        "client": facts.client,
        "headers": {k: "[redacted]" if k.lower() in REDACTED_HEADERS else v for k, v in request.headers.items()},
        "model": facts.model,
        "backend": facts.backend,
        "messages": facts.messages,
        "stream": facts.stream,
        "status": status,
        "streamed": facts.streamed,
        "cancelled": cancelled,
        "usage": facts.usage,
        "first_output_ms": round(facts.first_output_s * 1000, 1) if facts.first_output_s is not None else None,
        "fallbacks": facts.fallbacks or None,
        "error": facts.error,
        "tool_runs": facts.tool_runs or None,
        "temp_dir": facts.temp_dir,
        "temp_dir_base": str(settings.temp_dir_base),
        "pid": os.getpid(),
    }


async def _request_bytes(request: web.Request, settings: Settings) -> bytes | None:
    # Only a body the handler already read (and aiohttp cached); never read one it did not want.
    if settings.log_request_body and request.body_exists and not request.can_read_body:
        return await request.read()
    return None


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record the request's outcome to its own JSON file once the response is complete."""
    writer = request.app.get(REQUEST_LOG)
    if writer is None or request.path in SKIP_PATHS:
        return await handler(request)
    settings = request.app[SETTINGS]
    facts = request[FACTS]
    try:
        response = await handler(request)
    except asyncio.CancelledError:
        # Client gone or shutdown. If headers went out, the client saw their status; else 499 as nginx logs it.
        # A stream that already sent its last event was complete; the client just left during cleanup.
        done = facts.stream_done
        record = _record(request, facts, settings, facts.status or 499, cancelled=not done)
        writer.submit(record, await _request_bytes(request, settings) if done else None, None)
        raise
    except web.HTTPException as exc:
        writer.submit(_record(request, facts, settings, exc.status, cancelled=False), None, None)
        raise
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else None
    raw = await _request_bytes(request, settings)
    # After this task step, once the response went out: the answer does not wait for its record.
    asyncio.get_running_loop().call_soon(
        lambda: writer.submit(_record(request, facts, settings, response.status, cancelled=False), raw, body)
    )
    return response
