"""Server settings: one frozen dataclass built from an environment mapping."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from executors import BackendConfig, read_backend_configs
from executors.envconfig import (
    ConfigError,
    parse_bool,
    parse_choice,
    parse_float,
    parse_int,
    parse_list,
    parse_mapping,
)
from executors.table import SERVICE_ALIASES
from server.agent.settings import AgentSettings
from server.converters import DIALECTS
from server.images.settings import ImageSettings
from server.responses_store import check_store_url

__all__ = ["ConfigError", "Settings"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server is configured with; nothing else reads the environment."""

    host: str = "127.0.0.1"
    port: int = 3456
    services: tuple[str, ...] = ()  # the enabled backends' names, in SERVICE order (from_env fills it)
    backends: Mapping[str, BackendConfig] = field(default_factory=dict)
    default_model: str | None = None
    request_timeout_ms: int = 300_000
    temp_dir_base: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "copilot-bridge")
    max_concurrent_clis: int = 8
    max_queued_requests: int = 256
    kill_grace_ms: int = 500
    keepalive_s: float = 15.0
    models_cache_ttl_s: float = 3600.0
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
    responses_store: str = "memory://"
    responses_ttl_s: float = 86_400.0
    responses_max: int = 1000
    workers: int = 1
    shutdown_grace_s: float = 10.0
    agent: AgentSettings = field(default_factory=AgentSettings)
    images: ImageSettings = field(default_factory=ImageSettings)

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
        backends = read_backend_configs(env, project_root)
        settings = cls(
            host=env.get("HOST", d.host).strip() or d.host,
            port=parse_int(env, "PORT", d.port, minimum=0, maximum=65535),
            services=parse_services(env, backends),
            backends=backends,
            default_model=env.get("DEFAULT_MODEL", "").strip() or None,
            request_timeout_ms=parse_int(env, "REQUEST_TIMEOUT", d.request_timeout_ms, minimum=1),
            temp_dir_base=Path(env.get("TEMP_DIR_BASE", "").strip() or d.temp_dir_base),
            max_concurrent_clis=parse_int(env, "MAX_CONCURRENT_CLIS", d.max_concurrent_clis, minimum=1),
            max_queued_requests=parse_int(env, "MAX_QUEUED_REQUESTS", d.max_queued_requests, minimum=0),
            kill_grace_ms=parse_int(env, "KILL_GRACE_MS", d.kill_grace_ms, minimum=0, maximum=60_000),
            keepalive_s=parse_float(env, "STREAM_KEEPALIVE", d.keepalive_s, minimum=0.1),
            models_cache_ttl_s=parse_float(env, "MODELS_CACHE_TTL", d.models_cache_ttl_s, minimum=0),
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
            responses_store=env.get("RESPONSES_STORE", "").strip() or d.responses_store,
            responses_ttl_s=parse_float(env, "RESPONSES_TTL", d.responses_ttl_s, minimum=1),
            responses_max=parse_int(env, "RESPONSES_MAX", d.responses_max, minimum=1),
            workers=parse_int(env, "WORKERS", d.workers, minimum=1, maximum=64),
            shutdown_grace_s=parse_float(env, "SHUTDOWN_GRACE", d.shutdown_grace_s, minimum=0),
            agent=AgentSettings.from_env(env),
            images=ImageSettings.from_env(env),
        )
        settings.check_exposure()
        check_store_url(settings.responses_store)
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


def parse_services(env: Mapping[str, str], backends: Mapping[str, BackendConfig]) -> tuple[str, ...]:
    """SERVICE: an ordered list of backend names (or an alias such as `both`); the first wins bare model ids.

    Unset, it is every backend that serves by default (Copilot, and any upstream configured).
    """
    raw = env.get("SERVICE", "").strip()
    if not raw:
        return tuple(name for name, config in backends.items() if config.enabled_by_default)
    names = [alias for n in parse_list(env, "SERVICE") for alias in SERVICE_ALIASES.get(n.lower(), (n.lower(),))]
    unknown = [n for n in names if n not in backends]
    if unknown or not names:
        known = ", ".join([*backends, *SERVICE_ALIASES])
        raise ConfigError("SERVICE", f"unknown backend {unknown[0] if unknown else raw!r}; configured: {known}")
    return tuple(dict.fromkeys(names))
