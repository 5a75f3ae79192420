"""The application factory."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import structlog
from aiohttp import web

from executors import BackendContext, CliSlots, build_backends
from server.agent.toolset import agent_tools_ctx
from server.api import add_routes
from server.keys import BACKENDS, BACKGROUND, CATALOG, METRICS, RESPONSE_STORE, SETTINGS, SLOTS
from server.metrics import Metrics
from server.middleware.auth import require_api_key
from server.middleware.context import request_context
from server.middleware.cors import cors_preflight
from server.middleware.errors import openai_errors
from server.middleware.headers import stamp_response
from server.middleware.rate_limit import rate_limit, rate_limiter_ctx
from server.middleware.request_log import request_log, request_log_ctx
from server.pipeline.catalog import ModelCatalog
from server.responses_store import open_store
from server.serve import inflight_ctx, track_inflight
from server.settings import Settings
from tempdirs import prepare_base, sweep_stale

log = structlog.get_logger(__name__)


def create_app(settings: Settings, *, env: Mapping[str, str] | None = None) -> web.Application:
    """Build the app; `env` is what child processes inherit (defaults to this process's environment)."""
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
    slots = CliSlots(settings.max_concurrent_clis, settings.max_queued_requests)
    context = BackendContext(child_env, settings.temp_dir_base, slots, settings.request_timeout_s)
    backends = build_backends(settings.backends, settings.services, context)
    app[SETTINGS] = settings
    app[SLOTS] = slots
    app[BACKGROUND] = context.background
    app[BACKENDS] = backends
    app[CATALOG] = ModelCatalog(backends, settings.models_cache_ttl_s)
    app[METRICS] = Metrics(slots, backends)
    app.cleanup_ctx.extend([
        _temp_base, _backends, _response_store, agent_tools_ctx(child_env), inflight_ctx, rate_limiter_ctx,
        request_log_ctx, _metrics,
    ])
    add_routes(app)
    return app


async def _temp_base(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    base: Path = prepare_base(settings.temp_dir_base)
    # Dirs older than any live request can be are leftovers from a crash.
    sweep_stale(base, older_than_s=settings.request_timeout_s + 60)
    yield


async def _metrics(app: web.Application) -> AsyncIterator[None]:
    metrics = app[METRICS]
    metrics.start()
    try:
        yield
    finally:
        await metrics.aclose()


async def _backends(app: web.Application) -> AsyncIterator[None]:
    """Start every backend with the app (warm-ups, pools, sessions) and close them when it stops."""
    started = []
    try:
        for backend in app[BACKENDS].values():
            await backend.start()
            started.append(backend)
        yield
    finally:
        for backend in reversed(started):
            try:
                await backend.aclose()
            except Exception:
                log.exception("backend_close_failed", backend=backend.name)
        await app[BACKGROUND].drain()  # what finished answers left running: CLIs exiting, files going


async def _response_store(app: web.Application) -> AsyncIterator[None]:
    """Open the store of Responses (RESPONSES_STORE) for the app's lifetime."""
    settings = app[SETTINGS]
    if settings.workers > 1 and settings.responses_store.startswith("memory://"):
        # Each worker process has its own memory: a continuation may land on one that never saw it.
        log.warning("responses_store_per_process", workers=settings.workers, hint="set RESPONSES_STORE=redis://…")
    store = open_store(settings.responses_store, settings.responses_ttl_s, settings.responses_max)
    app[RESPONSE_STORE] = store
    try:
        yield
    finally:
        await store.aclose()
