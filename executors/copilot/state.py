"""Forget one Copilot run: its session-state dir, its lock file and its rows in the session store.

Copilot keeps every session (prompts and answers included) in `$COPILOT_HOME/session-store.db`
and a dir plus a lock file per session; on a busy server that grows without bound and retains
what clients sent. The bridge names each run's session (`--session-id`), so it can remove
exactly that session afterwards.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


def copilot_home(env: Mapping[str, str]) -> Path:
    """COPILOT_HOME, else ~/.copilot of the CLI's HOME."""
    if env.get("COPILOT_HOME"):
        return Path(env["COPILOT_HOME"])
    return Path(env.get("HOME") or Path.home()) / ".copilot"


def forget_session(home: Path, session_id: str) -> None:
    """Remove the session's dir, lock and store rows; never raises (cleanup is best effort)."""
    state = home / "session-state"
    shutil.rmtree(state / session_id, ignore_errors=True)
    with contextlib.suppress(OSError):
        (state / ".session-operation-locks" / f"{session_id}.lock").unlink()
    store = home / "session-store.db"
    if store.is_file():
        try:
            _delete_rows(store, session_id)
        except sqlite3.Error as exc:
            log.warning("copilot_session_store_cleanup_failed", error=str(exc))


def _delete_rows(store: Path, session_id: str) -> None:
    # Every table with a session_id column (the schema changes between CLI versions), then the session.
    with contextlib.closing(sqlite3.connect(store, timeout=10)) as db, db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}
            if "session_id" in columns:
                db.execute(f'DELETE FROM "{table}" WHERE session_id = ?', (session_id,))
        if "sessions" in tables:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
