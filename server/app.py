"""The application factory."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import structlog
from aiohttp import web

from executors import ClaudeExecutor, CopilotExecutor, Executor
from executors.config import CliConfig
from server.appkeys import CATALOG, EXECUTORS, HEALTH, SETTINGS, SLOTS
from server.auth import require_api_key
from server.cors import cors_preflight
from server.health import HealthProbe
from server.middleware import openai_errors, request_context
from server.models import ModelCatalog
from server.rate_limit import rate_limit, rate_limiter_ctx
from server.request_log import request_log, request_log_ctx
from server.response_headers import stamp_response
from server.routes import add_routes
from server.serve import inflight_ctx, track_inflight
from server.settings import Settings
from server.slots import CliSlots
from tempdirs import prepare_base, sweep_stale

log = structlog.get_logger(__name__)


def build_executors(settings: Settings, env: Mapping[str, str]) -> dict[str, Executor]:
    """One executor per enabled backend, in SERVICE order."""
    def config(path: str, models: tuple[str, ...]) -> CliConfig:
        return CliConfig(
            path=path,
            env=env,
            extra_dirs=settings.extra_tool_dirs,
            grace_s=settings.kill_grace_ms / 1000,
            enable_tools=settings.enable_cli_tools,
            models=models,
        )

    factories: dict[str, Executor] = {}
    for name in settings.services:
        if name == "copilot":
            factories[name] = CopilotExecutor(config(settings.copilot_cli_path, settings.copilot_models))
        else:
            factories[name] = ClaudeExecutor(
                config(settings.claude_cli_path, settings.claude_models), max_retries=settings.claude_max_retries
            )
    return factories


def create_app(settings: Settings, *, env: Mapping[str, str] | None = None) -> web.Application:
    """Build the app; `env` is what the CLIs inherit (defaults to this process's environment)."""
    child_env = dict(os.environ if env is None else env)
    app = web.Application(
        middlewares=[
            track_inflight,  # shutdown waits for these tasks
            request_context,
            request_log,
            cors_preflight,  # before auth: a preflight carries no key
            openai_errors,
            require_api_key,
            rate_limit,
        ],
        client_max_size=32 * 1024 * 1024,
    )
    app.on_response_prepare.append(stamp_response)  # X-Request-Id, rate-limit and CORS headers, streams too
    executors = build_executors(settings, child_env)
    app[SETTINGS] = settings
    app[EXECUTORS] = executors
    app[CATALOG] = ModelCatalog(executors, settings.services, settings.models_cache_ttl_s)
    app[SLOTS] = CliSlots(settings.max_concurrent_clis, settings.max_queued_requests)
    app[HEALTH] = HealthProbe(executors, child_env)
    app.cleanup_ctx.extend([_temp_base, inflight_ctx, rate_limiter_ctx, request_log_ctx])
    add_routes(app)
    return app


async def _temp_base(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    base: Path = prepare_base(settings.temp_dir_base)
    # Dirs older than any live request can be are leftovers from a crash.
    sweep_stale(base, older_than_s=settings.request_timeout_s + 60)
    yield
