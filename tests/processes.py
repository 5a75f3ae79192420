"""Finding a test's processes by a marker in their environment (the CLI and every child it started)."""

from __future__ import annotations

from pathlib import Path


def processes_with(marker: str) -> list[int]:
    """Live (not zombie) pids whose environment holds `marker`, a unique per-test value."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found
