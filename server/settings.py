"""Server settings: one frozen dataclass built from an environment mapping."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from server.config_parsing import (
    ConfigError,
    parse_bool,
    parse_choice,
    parse_float,
    parse_int,
    parse_list,
    parse_mapping,
    parse_services,
)
from server.converters import DIALECTS

__all__ = ["ConfigError", "Settings"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server is configured with; nothing else reads the environment."""

    host: str = "127.0.0.1"
    port: int = 3456
    services: tuple[str, ...] = ("copilot",)
    default_model: str | None = None
    copilot_cli_path: str = "copilot"
    claude_cli_path: str = "claude"
    request_timeout_ms: int = 300_000
    temp_dir_base: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "copilot-bridge")
    max_concurrent_clis: int = 8
    max_queued_requests: int = 256
    kill_grace_ms: int = 500
    keepalive_s: float = 15.0
    enable_cli_tools: bool = False
    claude_max_retries: int = 2
    models_cache_ttl_s: float = 3600.0
    copilot_models: tuple[str, ...] = ()
    claude_models: tuple[str, ...] = ()
    enable_tool_call_conversion: bool = True
    tool_dialects: Mapping[str, str] = field(default_factory=dict)
    log_level: str = "info"
    log_format: str = "console"
    log_dir: Path = Path("logs")
    log_requests: bool = True
    log_request_body: bool = False
    log_response_body: bool = False
    log_retention_days: int = 14
    api_keys: tuple[str, ...] = ()
    allow_public_without_auth: bool = False
    cors_origins: tuple[str, ...] = ()
    rate_limit_max: int = 0
    rate_limit_window_ms: int = 60_000
    rate_limit_storage: str = "memory://"
    workers: int = 1
    shutdown_grace_s: float = 10.0
    extra_tool_dirs: tuple[Path, ...] = ()

    @property
    def request_timeout_s(self) -> float:
        """REQUEST_TIMEOUT in seconds."""
        return self.request_timeout_ms / 1000

    @property
    def is_loopback(self) -> bool:
        """True when the server only listens on a loopback address."""
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, project_root: Path | None = None) -> Settings:
        """Build settings from an environment mapping; a bad value raises ConfigError naming it."""
        d = cls()
        keys = parse_list(env, "API_KEYS") + parse_list(env, "API_KEY")
        settings = cls(
            host=env.get("HOST", d.host).strip() or d.host,
            port=parse_int(env, "PORT", d.port, minimum=0, maximum=65535),
            services=parse_services(env, "SERVICE", d.services),
            default_model=env.get("DEFAULT_MODEL", "").strip() or None,
            copilot_cli_path=env.get("COPILOT_CLI_PATH", "").strip() or d.copilot_cli_path,
            claude_cli_path=env.get("CLAUDE_CLI_PATH", "").strip() or d.claude_cli_path,
            request_timeout_ms=parse_int(env, "REQUEST_TIMEOUT", d.request_timeout_ms, minimum=1),
            temp_dir_base=Path(env.get("TEMP_DIR_BASE", "").strip() or d.temp_dir_base),
            max_concurrent_clis=parse_int(env, "MAX_CONCURRENT_CLIS", d.max_concurrent_clis, minimum=1),
            max_queued_requests=parse_int(env, "MAX_QUEUED_REQUESTS", d.max_queued_requests, minimum=0),
            kill_grace_ms=parse_int(env, "KILL_GRACE_MS", d.kill_grace_ms, minimum=0, maximum=60_000),
            keepalive_s=parse_float(env, "STREAM_KEEPALIVE", d.keepalive_s, minimum=0.1),
            enable_cli_tools=parse_bool(env, "ENABLE_CLI_TOOLS", d.enable_cli_tools),
            claude_max_retries=parse_int(env, "CLAUDE_MAX_RETRIES", d.claude_max_retries, minimum=0),
            models_cache_ttl_s=parse_float(env, "MODELS_CACHE_TTL", d.models_cache_ttl_s, minimum=0),
            copilot_models=tuple(parse_list(env, "COPILOT_MODELS")),
            claude_models=tuple(parse_list(env, "CLAUDE_MODELS")),
            enable_tool_call_conversion=parse_bool(
                env, "ENABLE_TOOL_CALL_CONVERSION", d.enable_tool_call_conversion
            ),
            tool_dialects=parse_mapping(env, "TOOL_DIALECTS"),
            log_level=parse_choice(env, "LOG_LEVEL", d.log_level, ("debug", "info", "warning", "error")),
            log_format=parse_choice(env, "LOG_FORMAT", d.log_format, ("console", "json")),
            log_dir=Path(env.get("LOG_DIR", "").strip() or d.log_dir),
            log_requests=parse_bool(env, "LOG_REQUESTS", d.log_requests),
            log_request_body=parse_bool(env, "LOG_REQUEST_BODY", d.log_request_body),
            log_response_body=parse_bool(env, "LOG_RESPONSE_BODY", d.log_response_body),
            log_retention_days=parse_int(env, "LOG_RETENTION_DAYS", d.log_retention_days, minimum=1),
            api_keys=tuple(dict.fromkeys(keys)),
            allow_public_without_auth=parse_bool(
                env, "ALLOW_PUBLIC_WITHOUT_AUTH", d.allow_public_without_auth
            ),
            cors_origins=tuple(parse_list(env, "CORS_ORIGINS")),
            rate_limit_max=parse_int(env, "RATE_LIMIT_MAX", d.rate_limit_max, minimum=0),
            rate_limit_window_ms=parse_int(env, "RATE_LIMIT_WINDOW", d.rate_limit_window_ms, minimum=1),
            rate_limit_storage=env.get("RATE_LIMIT_STORAGE", "").strip() or d.rate_limit_storage,
            workers=parse_int(env, "WORKERS", d.workers, minimum=1, maximum=64),
            shutdown_grace_s=parse_float(env, "SHUTDOWN_GRACE", d.shutdown_grace_s, minimum=0),
            extra_tool_dirs=(project_root / ".tools" / "node_modules" / ".bin",) if project_root else (),
        )
        settings.check_exposure()
        unknown = sorted(set(settings.tool_dialects.values()) - set(DIALECTS))
        if unknown:
            raise ConfigError("TOOL_DIALECTS", f"unknown dialect {unknown[0]!r}; known: {', '.join(sorted(DIALECTS))}")
        return settings

    def check_exposure(self) -> None:
        """Refuse a public bind with no API key unless the operator opted out explicitly."""
        if not self.is_loopback and not self.api_keys and not self.allow_public_without_auth:
            raise ConfigError(
                "HOST",
                f"{self.host!r} is reachable from other machines but no API_KEY is set; "
                "set API_KEY (or API_KEYS) or, to serve without keys anyway, ALLOW_PUBLIC_WITHOUT_AUTH=true",
            )
