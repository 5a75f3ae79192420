"""structlog configuration, done once by the entry point: console plus rotated JSON files.

structlog hands every event to stdlib logging, so aiohttp's own records and ours share the same
handlers: stderr (console or JSON), LOG_DIR/combined.log (everything, JSON) and LOG_DIR/error.log
(warnings and errors, JSON).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from server.log_files import SharedRotatingFileHandler

MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
REDACTED = "[redacted]"
_installed: list[logging.Handler] = []


class RedactSecrets:
    """A processor that blanks any configured API key wherever it appears in an event."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(s for s in secrets if s)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrub(v) for v in value]
        return value

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        if not self._secrets:
            return event_dict
        return {k: self._scrub(v) for k, v in event_dict.items()}


def _formatter(renderer: Processor, pre_chain: Sequence[Processor]) -> structlog.stdlib.ProcessorFormatter:
    finishing: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if not isinstance(renderer, structlog.dev.ConsoleRenderer):
        finishing.append(structlog.processors.format_exc_info)
    return structlog.stdlib.ProcessorFormatter(
        processors=[*finishing, renderer], foreign_pre_chain=list(pre_chain)
    )


def configure_logging(
    level: str = "info", fmt: str = "console", log_dir: Path | None = None, secrets: Iterable[str] = ()
) -> None:
    """JSON lines or readable console output at LOG_LEVEL, plus rotated files when `log_dir` is given."""
    numeric = getattr(logging, level.upper())
    pre_chain: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        RedactSecrets(secrets),
    ]
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(_formatter(
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
        pre_chain,
    ))
    handlers: list[logging.Handler] = [console]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        for name, min_level in (("combined.log", logging.NOTSET), ("error.log", logging.WARNING)):
            file_handler = SharedRotatingFileHandler(
                log_dir / name, max_bytes=MAX_BYTES, backup_count=BACKUPS, level=min_level
            )
            file_handler.setFormatter(_formatter(structlog.processors.JSONRenderer(), pre_chain))
            handlers.append(file_handler)
    root = logging.getLogger()
    for old in _installed:  # configuring twice replaces, never duplicates
        root.removeHandler(old)
        old.close()
    _installed[:] = handlers
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(numeric)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*pre_chain, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
