"""`python -m server`: load .env, validate settings, serve (in WORKERS processes when more than one)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from dotenv import load_dotenv

from server.app import create_app
from server.logging_setup import configure_logging
from server.metrics import use_multiprocess
from server.middleware.rate_limit import check_storage_uri
from server.serve import announce, serve
from server.settings import ConfigError, Settings
from server.workers import claim_port, run_workers
from tempdirs import TempDirBaseError, prepare_base

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXIT_CONFIG = 2


def _serve_process(settings: Settings, *, reuse_port: bool, announce_ready: bool) -> int:
    try:
        serve(create_app(settings), settings, reuse_port=reuse_port,
              on_ready=(lambda: announce(settings)) if announce_ready else None)
    except TempDirBaseError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:  # the address is taken or not ours to bind
        print(f"configuration error: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _prepare(settings: Settings) -> Settings:
    """Everything that can be wrong with the configuration, checked before serving or forking."""
    check_storage_uri(settings.rate_limit_storage)
    try:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("LOG_DIR", f"cannot create {settings.log_dir}: {exc.strerror}") from None
    prepare_base(settings.temp_dir_base)
    return claim_port(settings) if settings.workers > 1 else settings


def main() -> int:
    """Entry point; a bad setting is one clear line on stderr and exit status 2."""
    load_dotenv(Path.cwd() / ".env")
    try:
        settings = _prepare(Settings.from_env(os.environ, project_root=PROJECT_ROOT))
    except (ConfigError, TempDirBaseError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format, settings.log_dir, secrets=settings.api_keys)
    if settings.workers > 1:
        announce(settings, settings.workers)
        # Any worker may answer a scrape: they keep their metrics in shared files and add them up.
        metrics_dir = Path(tempfile.mkdtemp(prefix="copilot-bridge-metrics-"))
        use_multiprocess(metrics_dir)
        try:
            return run_workers(settings, lambda s: _serve_process(s, reuse_port=True, announce_ready=False))
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return _serve_process(settings, reuse_port=False, announce_ready=True)


if __name__ == "__main__":
    sys.exit(main())
