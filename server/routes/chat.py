"""POST /v1/chat/completions."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
from typing import Any

import structlog
from aiohttp import web

from server.appkeys import CATALOG, EXECUTORS, SETTINGS, SLOTS
from server.chat_request import ChatRequest, parse_chat_request
from server.completion import CompletionHooks, CompletionJob, run_completion
from server.converters import dialect_for_model
from server.errors import InvalidRequest
from server.models import ModelInfo
from server.prompt import render_prompt
from server.request_log import TEMP_DIR, USAGE
from server.settings import Settings
from server.sse import stream_completion
from server.wire import ChunkFactory, fold_completion

log = structlog.get_logger(__name__)


async def _read_body(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the request body is not valid JSON", code="invalid_json") from None


async def _resolve(request: web.Request, chat: ChatRequest) -> ModelInfo:
    settings = request.app[SETTINGS]
    requested = chat.model or settings.default_model
    catalog = request.app[CATALOG]
    if requested is None:
        models = await catalog.models()
        if not models:
            raise InvalidRequest("'model' is required", code="invalid_model", param="model")
        return models[0]
    return await catalog.resolve(requested)


def _job(chat: ChatRequest, model: ModelInfo, settings: Settings) -> CompletionJob:
    dialect = dialect_for_model(model.id, settings.tool_dialects)
    prompt = render_prompt(
        chat.messages,
        tools=chat.tools,
        tool_choice=chat.tool_choice,
        parallel_tool_calls=chat.parallel_tool_calls,
        dialect=dialect,
    )
    use_tools = bool(chat.tools) and chat.tool_choice != "none"
    return CompletionJob(
        cli_model=model.cli_model,
        prompt=prompt,
        tools=chat.tools if use_tools else None,
        convert_tool_calls=use_tools and settings.enable_tool_call_conversion,
    )


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Run the request's CLI and answer as one JSON completion or as an SSE stream."""
    chat = parse_chat_request(await _read_body(request))
    model = await _resolve(request, chat)
    settings = request.app[SETTINGS]
    if chat.unknown_fields:
        log.info("unknown_request_fields", fields=list(chat.unknown_fields))
    structlog.contextvars.bind_contextvars(model=model.id, stream=chat.stream, messages=len(chat.messages))
    headers = {"X-Bridge-Backend": model.backend}
    if chat.ignored_params:
        headers["X-Bridge-Ignored-Params"] = ", ".join(chat.ignored_params)
    factory = ChunkFactory(model.id, include_usage=chat.include_usage, legacy_functions=chat.legacy_functions)
    job = _job(chat, model, settings)
    hooks = CompletionHooks(
        on_workdir=lambda path: request.__setitem__(TEMP_DIR, str(path)),
        on_completed=lambda done: request.__setitem__(USAGE, done.usage.as_openai()),
    )
    executor = request.app[EXECUTORS][model.backend]
    events = run_completion(job, executor, request.app[SLOTS], settings.temp_dir_base, hooks)
    async with aclosing(events):
        if chat.stream:
            deadline_at = asyncio.get_running_loop().time() + settings.request_timeout_s
            return await stream_completion(request, events, factory, headers, deadline_at, settings.keepalive_s)
        async with asyncio.timeout(settings.request_timeout_s):
            collected = [event async for event in events]
    body, ended = fold_completion(factory, collected)
    problems = [f"{e.index}: {p}" for e in ended for p in e.problems]
    if problems:
        headers["X-Bridge-Tool-Call-Warnings"] = _header_safe("; ".join(problems))
    return web.json_response(body, headers=headers, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _header_safe(text: str, limit: int = 1000) -> str:
    """Printable ASCII only: problems quote model output, which may hold newlines or non-ASCII."""
    escaped = text.encode("ascii", "backslashreplace").decode()
    return "".join(c if c.isprintable() else " " for c in escaped)[:limit]
