"""The model catalog: ids discovered from each enabled backend, cached, and resolved per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from executors import Backend, BackendError, ModelEntry
from server.protocol.errors import ModelNotFound

log = structlog.get_logger(__name__)
RETRY_FAILED_S = 30.0  # a backend that could not list its models is asked again this soon


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One servable model: the public id (`<backend>/<id>`), its backend and the id the backend takes."""

    id: str
    backend: str
    backend_model: str
    owned_by: str
    created: int


class ModelCatalog:
    """Discovers models per backend once per TTL; resolves `backend/id` and bare ids (SERVICE order wins)."""

    def __init__(self, backends: Mapping[str, Backend], ttl_s: float) -> None:
        self._backends = backends
        self._ttl_s = ttl_s
        self._models: dict[str, list[ModelInfo]] = {}
        self._expires: dict[str, float] = {}
        self._failures: dict[str, BackendError] = {}  # why a backend's last discovery failed
        self._lock = asyncio.Lock()

    async def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """All models, in SERVICE order; a backend's list is rediscovered when stale or when asked to."""
        async with self._lock:
            now = time.monotonic()
            stale = [n for n in self._backends if refresh or self._expires.get(n, float("-inf")) <= now]
            if stale:
                await asyncio.gather(*(self._discover(n) for n in stale))
        return [m for name in self._backends for m in self._models.get(name, [])]

    async def _discover(self, name: str) -> None:
        created = int(time.time())
        try:
            entries: list[ModelEntry] = await self._backends[name].list_models()
        except Exception as exc:  # noqa: BLE001 - one backend being down must not hide the others' models
            log.warning("model_discovery_failed", backend=name, error=str(exc) or type(exc).__name__)
            self._expires[name] = time.monotonic() + min(self._ttl_s, RETRY_FAILED_S)
            if isinstance(exc, BackendError):
                self._failures[name] = exc
            return
        self._failures.pop(name, None)
        self._models[name] = [ModelInfo(f"{name}/{e.id}", name, e.id, e.owned_by, created) for e in entries]
        self._expires[name] = time.monotonic() + self._ttl_s
        log.info("models_discovered", backend=name, count=len(entries))

    async def resolve(self, requested: str) -> ModelInfo:
        """`copilot/gpt-5.4` picks its backend; a bare id goes to the first backend that has it."""
        models = await self.models()
        for model in models:
            if model.id == requested:
                return model
        for model in models:  # bare id: SERVICE order decides
            if model.backend_model == requested:
                return model
        for name, failure in self._failures.items():
            if requested.startswith(f"{name}/") and not self._models.get(name):
                # `<backend>/…` of a backend that could not list its models: say why (e.g. a 503).
                raise failure.with_traceback(None)
        raise ModelNotFound(
            f"The model '{requested}' does not exist or is not served here; GET /v1/models lists the ids",
            param="model",
        )
