"""Forgetting one Copilot session removes exactly its dir, lock and store rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from executors.copilot.state import forget_session


def make_home(tmp_path: Path, sessions: list[str]) -> Path:
    home = tmp_path / ".copilot"
    locks = home / "session-state" / ".session-operation-locks"
    locks.mkdir(parents=True)
    with sqlite3.connect(home / "session-store.db") as db:
        db.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, cwd TEXT)")
        db.execute("CREATE TABLE turns (id INTEGER PRIMARY KEY, session_id TEXT, content TEXT)")
        db.execute("CREATE VIRTUAL TABLE search_index USING fts5(content, session_id UNINDEXED)")
        for sid in sessions:
            (home / "session-state" / sid).mkdir()
            (home / "session-state" / sid / "events.jsonl").write_text("{}")
            (locks / f"{sid}.lock").touch()
            db.execute("INSERT INTO sessions VALUES (?, '/tmp')", (sid,))
            db.execute("INSERT INTO turns (session_id, content) VALUES (?, 'hi')", (sid,))
            db.execute("INSERT INTO search_index VALUES ('hi', ?)", (sid,))
    return home


def test_forget_session_removes_only_that_session(tmp_path: Path) -> None:
    home = make_home(tmp_path, ["mine", "theirs"])
    forget_session(home, "mine")
    assert sorted(p.name for p in (home / "session-state").iterdir()) == [".session-operation-locks", "theirs"]
    assert [p.name for p in (home / "session-state" / ".session-operation-locks").iterdir()] == ["theirs.lock"]
    with sqlite3.connect(home / "session-store.db") as db:
        assert db.execute("SELECT id FROM sessions").fetchall() == [("theirs",)]
        assert db.execute("SELECT session_id FROM turns").fetchall() == [("theirs",)]
        assert db.execute("SELECT session_id FROM search_index").fetchall() == [("theirs",)]


def test_forget_session_without_state_is_harmless(tmp_path: Path) -> None:
    forget_session(tmp_path / "nothing-here", "x")
    home = make_home(tmp_path, [])
    (home / "session-store.db").write_bytes(b"not a database")
    forget_session(home, "x")  # a broken store is logged, not raised
