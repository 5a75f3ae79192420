"""The model catalog: ids discovered from each enabled CLI, cached, and resolved per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from executors import Executor
from server.errors import ModelNotFound

log = structlog.get_logger(__name__)

_OWNERS = (
    ("claude", "anthropic"), ("gpt", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"),
    ("gemini", "google"), ("grok", "xai"), ("kimi", "moonshotai"), ("mai", "microsoft"),
)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One servable model: the public id, its backend and the id the CLI takes."""

    id: str
    backend: str
    cli_model: str
    owned_by: str
    created: int


def owner_of(backend: str, cli_model: str) -> str:
    """Who makes the model, guessed from its id; Claude's aliases are Anthropic's."""
    if backend == "claude":
        return "anthropic"
    for prefix, owner in _OWNERS:
        if cli_model.startswith(prefix):
            return owner
    return "github-copilot"


class ModelCatalog:
    """Discovers models per backend once per TTL; resolves `backend/id` and bare ids."""

    def __init__(self, executors: Mapping[str, Executor], order: Sequence[str], ttl_s: float) -> None:
        self._executors = executors
        self._order = tuple(order)
        self._ttl_s = ttl_s
        self._models: dict[str, list[ModelInfo]] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """All models, in SERVICE order; rediscovered when stale or when asked to."""
        async with self._lock:
            if refresh or time.monotonic() - self._fetched_at > self._ttl_s:
                await self._discover()
        return [m for backend in self._order for m in self._models.get(backend, [])]

    async def _discover(self) -> None:
        created = int(time.time())
        names = list(self._executors)
        found = await asyncio.gather(*(self._executors[n].discover_models() for n in names))
        self._models = {
            name: [ModelInfo(f"{name}/{m}", name, m, owner_of(name, m), created) for m in dict.fromkeys(ids)]
            for name, ids in zip(names, found, strict=True)
        }
        self._fetched_at = time.monotonic()
        log.info("models_discovered", counts={n: len(v) for n, v in self._models.items()})

    async def resolve(self, requested: str) -> ModelInfo:
        """`copilot/gpt-5.4` picks its backend; a bare id goes to the first backend that has it."""
        models = await self.models()
        for model in models:
            if model.id == requested:
                return model
        for model in models:  # bare id: SERVICE order decides
            if model.cli_model == requested:
                return model
        raise ModelNotFound(
            f"The model '{requested}' does not exist or is not served here; GET /v1/models lists the ids",
            param="model",
        )
