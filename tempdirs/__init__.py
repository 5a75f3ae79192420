"""Private per-request temp dirs, removed on every path, and a sweep for stale ones."""

from tempdirs.request_dir import PREFIX, RequestTempDir, TempDirBaseError, prepare_base, sweep_stale

__all__ = ["PREFIX", "RequestTempDir", "TempDirBaseError", "prepare_base", "sweep_stale"]
