"""POST /v1/completions and /v1/embeddings: relayed as they are to backends that can forward them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import structlog
from aiohttp import web

from executors import RawForwarding
from server.api.body import read_json
from server.facts import RequestFacts
from server.keys import BACKENDS, CATALOG, FACTS, SETTINGS
from server.pipeline.prepare import resolve_target
from server.protocol.errors import InvalidRequest, UnsupportedEndpoint
from server.render.relay import Relayed, RelayEnd, RelayEvent, RelayFormat, with_model
from server.render.sse import stream_sse

log = structlog.get_logger(__name__)


async def completions(request: web.Request) -> web.StreamResponse:
    """Legacy text completions, streamed or not."""
    return await _relay(request, "completions", streams=True)


async def embeddings(request: web.Request) -> web.StreamResponse:
    """Embeddings (never streamed)."""
    return await _relay(request, "embeddings", streams=False)


async def _relay(request: web.Request, endpoint: str, *, streams: bool) -> web.StreamResponse:
    """Resolve the model, check its backend forwards, send the body with the backend's model id."""
    settings = request.app[SETTINGS]
    facts = request[FACTS]
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", code="invalid_body")
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise InvalidRequest("'model' must be a non-empty string", code="invalid_model", param="model")
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean", param="stream")
    target = await resolve_target(model, request.app[CATALOG], request.app[BACKENDS], settings, facts)
    backend = target.backend
    if not isinstance(backend, RawForwarding):
        raise UnsupportedEndpoint(
            f"The model '{target.model.id}' is served by '{target.model.backend}', which only answers "
            f"/v1/chat/completions; /v1/{endpoint} needs a model from a model server (GET /v1/models)",
            param="model",
        )
    structlog.contextvars.bind_contextvars(model=target.model.id)
    facts.stream = bool(stream) and streams
    headers = {"X-Bridge-Backend": target.model.backend}
    forwarded = {**body, "model": target.model.backend_model}
    if facts.stream:
        events = _relayed(backend.forward_stream(endpoint, forwarded), facts)
        async with aclosing(events):
            deadline_at = asyncio.get_running_loop().time() + settings.request_timeout_s
            return await stream_sse(request, events, RelayFormat(target.model.id), headers, deadline_at, settings.keepalive_s)
    async with asyncio.timeout(settings.request_timeout_s):
        answer = await backend.forward(endpoint, forwarded)
    facts.note_output()
    _note_usage(facts, answer)
    return web.json_response(with_model(answer, target.model.id), headers=headers,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def _relayed(events: AsyncIterator[Any], facts: RequestFacts) -> AsyncGenerator[RelayEvent, None]:
    """The backend's events, then the end; closing this closes the backend's stream."""
    try:
        async for data in events:
            facts.note_output()
            _note_usage(facts, data)
            yield Relayed(data)
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    yield RelayEnd()


def _note_usage(facts: RequestFacts, data: Any) -> None:
    usage = data.get("usage") if isinstance(data, dict) else None
    if isinstance(usage, dict):
        facts.usage = usage
