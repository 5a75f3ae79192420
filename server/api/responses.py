"""The Responses API: `POST /v1/responses`, and reading or deleting stored responses.

A Responses request runs through the same pipeline as a chat completion (one backend run,
the same converter and output events); only the rendering differs. A response is stored when
it finished (before its terminal event goes out, so a client can continue at once) unless the
request said `store: false`; it belongs to the API key that created it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import structlog
from aiohttp import web

from server.api.body import header_safe, read_json
from server.images.prepare import prepare_images
from server.keys import BACKENDS, CATALOG, FACTS, RESPONSE_STORE, SETTINGS
from server.pipeline.answer import answer
from server.pipeline.events import OutputEvent
from server.pipeline.prepare import backend_request, resolve_target
from server.protocol.errors import ApiError, InvalidRequest, NotFound
from server.protocol.responses_items import items_to_messages
from server.protocol.responses_request import (
    RESPONSES_NAMES,
    ResponsesRequest,
    parse_responses_request,
)
from server.render.responses import ResponsesFormat, ResponseShell, fold_response, response_events
from server.render.responses_output import OutputItems, ResponseEvent
from server.render.sse import stream_sse
from server.responses_store import ResponseStore, StoredResponse, StoreUnreachable

log = structlog.get_logger(__name__)
_DUMPS: Callable[[Any], str] = lambda o: json.dumps(o, ensure_ascii=False)


def new_response_id() -> str:
    """A fresh `resp_…` id."""
    return "resp_" + secrets.token_hex(24)


async def create_response(request: web.Request) -> web.StreamResponse:
    """Run the request on its model's backend; answer with a Response or its event stream."""
    settings = request.app[SETTINGS]
    facts = request[FACTS]
    store = request.app[RESPONSE_STORE]
    req = parse_responses_request(await read_json(request))
    context: Sequence[Mapping[str, Any]] = ()
    if req.previous_response_id is not None:
        context = (await _owned(request, req.previous_response_id, "previous_response_id")).conversation()
    target = await resolve_target(req.model, request.app[CATALOG], request.app[BACKENDS], settings, facts)
    if req.unknown_fields:
        log.info("unknown_request_fields", fields=list(req.unknown_fields))
    messages, skipped = items_to_messages([*context, *req.input_items], req.instructions, req.tools.names,
                                          context_items=len(context))
    if skipped:
        log.info("responses_items_skipped", types=dict(skipped))
    facts.stream, facts.messages = req.stream, len(messages)
    structlog.contextvars.bind_contextvars(model=target.model.id)
    messages = await prepare_images(messages, target.backend, settings.images)
    job = backend_request(
        target, settings, messages,
        tools=req.allowed_tools, tool_choice=req.tool_choice, parallel_tool_calls=req.parallel_tool_calls,
    )
    with in_responses_names():
        planned = answer(target, job, req.params, facts, settings)
    headers = {"X-Bridge-Backend": target.model.backend}
    ignored = [RESPONSES_NAMES.get(name, name) for name in planned.ignored] + list(req.ignored)
    if ignored:
        headers["X-Bridge-Ignored-Params"] = ", ".join(sorted(ignored))
    if req.tools.skipped:
        log.info("responses_tools_skipped", types=list(req.tools.skipped))
        headers["X-Bridge-Ignored-Tools"] = ", ".join(req.tools.skipped)
    shell = _shell(req, target.model.id)
    items = OutputItems(req.tools.names)
    events = response_events(_renamed_errors(planned.events), items, shell)
    if req.store:
        events = _storing(events, store, lambda body: StoredResponse(shell.id, facts.api_key_id, body, req.input_items, context))
    async with aclosing(events):
        if req.stream:
            deadline_at = asyncio.get_running_loop().time() + settings.request_timeout_s
            return await stream_sse(request, events, ResponsesFormat(shell), headers, deadline_at, settings.keepalive_s)
        async with asyncio.timeout(settings.request_timeout_s):
            collected = [event async for event in events]
    if items.problems:
        headers["X-Bridge-Tool-Call-Warnings"] = header_safe("; ".join(items.problems))
    return web.json_response(fold_response(collected), headers=headers, dumps=_DUMPS)


@contextlib.contextmanager
def in_responses_names() -> Iterator[None]:
    """Errors about a parameter name it as the client wrote it (`text.format`, not `response_format`)."""
    try:
        yield
    except ApiError as exc:
        exc.param = RESPONSES_NAMES.get(exc.param or "", exc.param)
        raise


async def _renamed_errors(events: AsyncGenerator[OutputEvent, None]) -> AsyncGenerator[OutputEvent, None]:
    """The answer's events; an error it raises (a 502 after the repair turn) names the Responses parameter."""
    async with aclosing(events):
        with in_responses_names():
            async for event in events:
                yield event


def _shell(req: ResponsesRequest, model: str) -> ResponseShell:
    return ResponseShell(
        id=new_response_id(),
        model=model,
        instructions=req.instructions,
        tools=req.tools.echo,
        tool_choice=req.raw_tool_choice,
        parallel_tool_calls=req.parallel_tool_calls,
        previous_response_id=req.previous_response_id,
        store=req.store,
        metadata=req.metadata,
        echo=req.echo,
    )


async def _storing(
    events: AsyncGenerator[ResponseEvent, None],
    store: ResponseStore,
    record: Callable[[dict[str, Any]], StoredResponse],
) -> AsyncGenerator[ResponseEvent, None]:
    """Pass the events on; store the Response before its terminal event goes out."""
    async with aclosing(events):
        async for event in events:
            if event["type"] in ("response.completed", "response.incomplete"):
                try:
                    await store.put(record(event["response"]))
                except StoreUnreachable as exc:
                    # The answer is done and paid for: deliver it, and say loudly that it was not kept.
                    log.error("response_store_write_failed", response_id=event["response"]["id"], error=str(exc))
            yield event


async def _owned(request: web.Request, response_id: str, param: str | None = None) -> StoredResponse:
    """The stored response, if the caller's key created it; a 404 otherwise."""
    record = await request.app[RESPONSE_STORE].get(response_id, request[FACTS].api_key_id)
    if record is None:
        raise NotFound(f"no response with id {response_id!r}", code="response_not_found", param=param)
    return record


async def get_response(request: web.Request) -> web.StreamResponse:
    """`GET /v1/responses/{id}`: a stored Response."""
    record = await _owned(request, request.match_info["response_id"])
    return web.json_response(record.response, dumps=_DUMPS)


async def delete_response(request: web.Request) -> web.StreamResponse:
    """`DELETE /v1/responses/{id}`."""
    response_id = request.match_info["response_id"]
    if not await request.app[RESPONSE_STORE].delete(response_id, request[FACTS].api_key_id):
        raise NotFound(f"no response with id {response_id!r}", code="response_not_found")
    return web.json_response({"id": response_id, "object": "response.deleted", "deleted": True})


async def list_input_items(request: web.Request) -> web.StreamResponse:
    """`GET /v1/responses/{id}/input_items`: the request's input items, a cursor page."""
    record = await _owned(request, request.match_info["response_id"])
    query = request.query
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequest("'order' must be 'asc' or 'desc'", param="order")
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise InvalidRequest("'limit' must be an integer from 1 to 100", param="limit")
    items = list(record.input_items) if order == "asc" else list(reversed(record.input_items))
    after = query.get("after")
    if after:
        ids = [item.get("id") for item in items]
        if after not in ids:
            raise InvalidRequest(f"'after' names no input item of this response: {after!r}", param="after")
        items = items[ids.index(after) + 1:]
    page = items[:limit]
    return web.json_response({
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else "",
        "last_id": page[-1]["id"] if page else "",
        "has_more": len(items) > limit,
    }, dumps=_DUMPS)
