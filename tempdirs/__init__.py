"""Private per-request temp dirs, removed on every path, and a sweep for stale ones."""

from tempdirs.request_dir import (
    PREFIX,
    RequestTempDir,
    TempDirBaseError,
    new_request_dir,
    prepare_base,
    remove_request_dir,
    sweep_stale,
)

__all__ = [
    "PREFIX",
    "RequestTempDir",
    "TempDirBaseError",
    "new_request_dir",
    "prepare_base",
    "remove_request_dir",
    "sweep_stale",
]
