"""A size-rotated log file that several worker processes can append to at once."""

from __future__ import annotations

import fcntl
import logging
import os
from logging.handlers import WatchedFileHandler
from pathlib import Path


class SharedRotatingFileHandler(WatchedFileHandler):
    """Rotates `name` → `name.1` … `name.N` at `max_bytes`, safely across processes.

    A plain RotatingFileHandler in each of several processes renames the file under the others'
    feet: they keep writing to the renamed file, rotate it again, and lines go missing. Here a
    process rotates only while holding an flock on `name.lock` and only if the file on disk is
    still too big; every process notices the new file on its next line (WatchedFileHandler
    reopens when the path's inode changes).
    """

    def __init__(self, filename: Path, *, max_bytes: int, backup_count: int, level: int = logging.NOTSET) -> None:
        super().__init__(filename, encoding="utf-8")
        self.setLevel(level)
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self._lock_path = f"{self.baseFilename}.lock"

    def _size_on_disk(self) -> int:
        try:
            return os.stat(self.baseFilename).st_size
        except FileNotFoundError:
            return 0

    def _rotate(self) -> None:
        with open(self._lock_path, "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                if self._size_on_disk() < self.max_bytes:  # another process just did it
                    return
                for index in range(self.backup_count - 1, 0, -1):
                    source = f"{self.baseFilename}.{index}"
                    if os.path.exists(source):
                        os.replace(source, f"{self.baseFilename}.{index + 1}")
                if self.backup_count > 0:
                    os.replace(self.baseFilename, f"{self.baseFilename}.1")
                else:
                    os.truncate(self.baseFilename, 0)
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def emit(self, record: logging.LogRecord) -> None:
        """Rotate first if the file is full, then append (reopening if another process rotated)."""
        try:
            if self.max_bytes > 0 and self._size_on_disk() >= self.max_bytes:
                self._rotate()
        except OSError:
            self.handleError(record)
        super().emit(record)
