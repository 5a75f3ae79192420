"""POST /v1/chat/completions."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

import structlog
from aiohttp import web

from server.api.body import header_safe, read_json
from server.images.prepare import prepare_images
from server.keys import BACKENDS, CATALOG, FACTS, SETTINGS
from server.pipeline.answer import answer
from server.pipeline.prepare import backend_request, resolve_target
from server.protocol.chat_request import parse_chat_request
from server.render.chat import ChatFormat, fold_completion
from server.render.sse import stream_sse

log = structlog.get_logger(__name__)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Run the request on its model's backend and answer as one JSON completion or as an SSE stream."""
    settings = request.app[SETTINGS]
    facts = request[FACTS]
    chat = parse_chat_request(await read_json(request))
    target = await resolve_target(chat.model, request.app[CATALOG], request.app[BACKENDS], settings, facts)
    if chat.unknown_fields:
        log.info("unknown_request_fields", fields=list(chat.unknown_fields))
    facts.stream, facts.messages = chat.stream, len(chat.messages)
    structlog.contextvars.bind_contextvars(model=target.model.id)
    messages = await prepare_images(chat.messages, target.backend, settings.images)
    job = backend_request(
        target, settings, messages,
        tools=chat.tools, tool_choice=chat.tool_choice, parallel_tool_calls=chat.parallel_tool_calls,
    )
    planned = answer(target, job, chat.params, facts, settings)
    headers = {"X-Bridge-Backend": target.model.backend}
    if planned.ignored:
        headers["X-Bridge-Ignored-Params"] = ", ".join(planned.ignored)
    fmt = ChatFormat(target.model.id, include_usage=chat.include_usage, legacy_functions=chat.legacy_functions)
    events = planned.events
    async with aclosing(events):
        if chat.stream:
            deadline_at = asyncio.get_running_loop().time() + settings.request_timeout_s
            return await stream_sse(request, events, fmt, headers, deadline_at, settings.keepalive_s)
        async with asyncio.timeout(settings.request_timeout_s):
            collected = [event async for event in events]
    body, ended = fold_completion(fmt, collected)
    problems = [f"{e.index}: {p}" for e in ended for p in e.problems]
    if problems:
        headers["X-Bridge-Tool-Call-Warnings"] = header_safe("; ".join(problems))
    return web.json_response(body, headers=headers, dumps=lambda o: json.dumps(o, ensure_ascii=False))
