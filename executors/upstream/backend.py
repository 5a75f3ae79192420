"""An OpenAI-compatible model server as a backend: chat with fallbacks, models, health, raw relay."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import structlog

from executors.errors import BackendError
from executors.events import BackendEvent, RunInfo
from executors.protocol import BackendContext, BackendHealth, Capabilities, ModelEntry
from executors.request import BackendRequest
from executors.upstream.chunks import ChunkReader
from executors.upstream.client import UpstreamClient
from executors.upstream.config import UpstreamSettings
from executors.upstream.embeddings import one_vector_per_input
from executors.upstream.errors import UpstreamBadResponse, UpstreamRejected, UpstreamStreamEnded
from executors.upstream.fallbacks import FallbackMemory, in_effect, next_shape
from executors.upstream.wire import Shape, chat_body

log = structlog.get_logger(__name__)
MAX_TRIES = 6  # the fallbacks are finite anyway; this bounds a server that keeps moving its limit



class UpstreamBackend:
    """Forwards each request to its server over one pooled session and streams the answer back."""

    def __init__(self, settings: UpstreamSettings, context: BackendContext) -> None:
        self._settings = settings
        self._client = UpstreamClient(settings)
        self._memory = FallbackMemory(cap=settings.max_tokens)
        self._capabilities = Capabilities(params=settings.params, images=True)  # sent as they came
        self._active = 0  # requests streaming now

    @property
    def name(self) -> str:
        """The upstream's name (its model-id prefix)."""
        return self._settings.name

    @property
    def capabilities(self) -> Capabilities:
        """The generation parameters the server takes (its preset's list)."""
        return self._capabilities

    def stats(self) -> dict[str, int]:
        """No processes of its own; the requests it is streaming."""
        return {"processes_running": 0, "processes_idle": 0, "processes_warm": 0,
                "requests_active": self._active, "restarts": 0}

    async def start(self) -> None:
        """Open the connection pool; the server itself is not contacted (it may be down)."""
        await self._client.open()

    async def aclose(self) -> None:
        """Close the pool."""
        await self._client.close()

    async def stream(self, request: BackendRequest) -> AsyncIterator[BackendEvent]:
        """Send the request in the shape the server accepts, then yield its answer chunk by chunk."""
        shape, response = await self._open_chat(request)
        fallbacks = in_effect(request, shape)
        self._active += 1
        reader = ChunkReader(self.name)
        completed = False
        try:
            if fallbacks:
                yield RunInfo(fallbacks=fallbacks)
            if response.content_type == "application/json":  # a server that does not stream
                for event in reader.read(await self._client.read_json(response)):
                    yield event
            else:
                try:
                    async for chunk in self._client.events(response):
                        for event in reader.read(chunk):
                            yield event
                except UpstreamStreamEnded:
                    if reader.finish is None:
                        raise UpstreamBadResponse(self.name, "the upstream's stream ended before the answer finished") from None
            completed = True
        finally:
            self._active -= 1
            # A client that left (or an error) closes the connection, which stops the generation upstream.
            self._client.done_with(response, completed=completed)
        for event in reader.end():
            yield event

    async def _open_chat(self, request: BackendRequest) -> tuple[Shape, aiohttp.ClientResponse]:
        """POST in the remembered shape; on a refusal that hints at a fallback, try the next shape."""
        start = shape = self._memory.shape_for(request.model)
        for _ in range(MAX_TRIES):
            try:
                response = await self._client.post("chat/completions", chat_body(request, shape, self._settings.max_tokens_field))
            except UpstreamRejected as exc:
                step = next_shape(exc, request, shape)
                if step is None:
                    raise
                shape, fallback = step
                log.warning("upstream_fallback", backend=self.name, model=request.model, fallback=fallback, status=exc.status)
                # The server's words may quote the conversation (pydantic echoes the message): debug only.
                log.debug("upstream_refusal", backend=self.name, upstream_message=exc.message[:500])
                continue
            if shape != start:
                self._memory.remember(request.model, shape)
                log.info("upstream_fallback_remembered", backend=self.name, model=request.model,
                         fallbacks=list(in_effect(request, shape)))
            return shape, response
        raise UpstreamBadResponse(self.name, f"the upstream refused {MAX_TRIES} versions of the request")

    async def list_models(self) -> list[ModelEntry]:
        """The server's `/models`; a fresh list also forgets the fallbacks learned so far."""
        body = await self._client.get_json("models")
        models = model_entries(body, self.name)
        self._memory.forget()
        return models

    async def health(self) -> BackendHealth:
        """Reachable (its model list answers), and whether it accepts our key."""
        detail: dict[str, Any] = {"url": self._settings.base_url, "preset": self._settings.preset}
        if self._settings.proxy_address:
            detail["proxy"] = self._settings.proxy_address
        try:
            count = len(model_entries(await self._client.get_json("models"), self.name))
        except UpstreamRejected as exc:
            refused = exc.status in (401, 403)
            reason = f"HTTP {exc.status}: {exc.message}"
            return BackendHealth(available=refused, authenticated=False if refused else None, detail={**detail, "reason": reason})
        except BackendError as exc:
            return BackendHealth(available=False, detail={**detail, "reason": exc.message})
        return BackendHealth(available=True, authenticated=True, detail={**detail, "models": count})

    async def forward(self, endpoint: str, body: Mapping[str, Any]) -> Any:
        """POST the client's body to the server's endpoint; its JSON answer (embeddings one per input)."""
        response = await self._client.post(endpoint, body)
        answer = await self._client.read_json(response)
        if endpoint == "embeddings":
            answer, pooled = one_vector_per_input(answer)
            if pooled:
                log.info("upstream_embeddings_pooled", backend=self.name, model=body.get("model"))
        return answer

    async def forward_stream(self, endpoint: str, body: Mapping[str, Any]) -> AsyncIterator[Any]:
        """POST with `stream: true`; each event's JSON as the server sends it."""
        response = await self._client.post(endpoint, body)
        completed = False
        try:
            if response.content_type == "application/json":  # a server that does not stream
                yield await self._client.read_json(response)
            else:
                async for event in self._client.events(response):
                    yield event
            completed = True
        finally:
            self._client.done_with(response, completed=completed)


def model_entries(body: Any, backend: str) -> list[ModelEntry]:
    """The `data` list of a `/models` answer (llama.cpp adds an Ollama-style `models` list: not used)."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list):
        raise UpstreamBadResponse(backend, "the upstream's /models answer has no `data` list")
    seen: dict[str, ModelEntry] = {}
    for item in data:
        if isinstance(item, Mapping) and isinstance(item.get("id"), str) and item["id"]:
            owner = item.get("owned_by")
            seen.setdefault(item["id"], ModelEntry(item["id"], owner if isinstance(owner, str) and owner else backend))
    return list(seen.values())
