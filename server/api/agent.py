"""POST /api/chat, POST /api/agent_chat and GET /api/tools: the bridge's own agent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import structlog
from aiohttp import web

from executors import BackendRequest, Message
from server.agent.dialogue import Dialogue, RequestBuilder
from server.agent.engine import AgentRun, run_agent
from server.agent.events import AgentDone
from server.agent.function_calls import FunctionCalling
from server.agent.react import ReasonAct
from server.agent.toolbox import Toolbox
from server.api.body import read_json
from server.images.prepare import prepare_images
from server.keys import BACKENDS, CATALOG, FACTS, SETTINGS, TOOLBOX
from server.pipeline.prepare import backend_request, resolve_target
from server.protocol.agent_request import parse_agent_request
from server.protocol.errors import AgentDisabled
from server.render.agent import AgentFormat, agent_reply
from server.render.sse import stream_sse

log = structlog.get_logger(__name__)
DialogueMaker = Callable[[RequestBuilder, Toolbox], Dialogue]


async def chat(request: web.Request) -> web.StreamResponse:
    """The agent with the tools offered through the chat-completions tool protocol."""
    return await _agent(request, lambda build, toolbox: FunctionCalling(build, toolbox.function_tools()))


async def agent_chat(request: web.Request) -> web.StreamResponse:
    """The agent with a reason-then-act prompt (thought, action, observation)."""
    return await _agent(request, lambda build, toolbox: ReasonAct(build, toolbox.specs))


async def tools(request: web.Request) -> web.Response:
    """The enabled tools with their JSON schemas, and the step limit."""
    toolbox = request.app[TOOLBOX]
    body = {"tools": [spec.as_json() for spec in toolbox.specs], "max_steps": request.app[SETTINGS].agent.max_steps}
    return web.json_response(body)


async def _agent(request: web.Request, make_dialogue: DialogueMaker) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if not settings.agent.enabled:
        raise AgentDisabled("the agent endpoints are off; the operator enables them with AGENT_TOOLS or AGENT_MCP_CONFIG")
    facts = request[FACTS]
    ask = parse_agent_request(await read_json(request), settings.agent.max_steps)
    target = await resolve_target(ask.model, request.app[CATALOG], request.app[BACKENDS], settings, facts)
    if ask.unknown_fields:
        log.info("unknown_request_fields", fields=list(ask.unknown_fields))
    facts.stream, facts.messages = ask.stream, len(ask.conversation)
    structlog.contextvars.bind_contextvars(model=target.model.id)
    conversation = await prepare_images(ask.conversation, target.backend, settings.images)

    def build(messages: Sequence[Message], function_tools: Sequence[Mapping[str, Any]]) -> BackendRequest:
        return backend_request(target, settings, messages, tools=function_tools)

    toolbox = request.app[TOOLBOX]
    run = AgentRun(target.backend, make_dialogue(build, toolbox), toolbox, ask.max_steps or settings.agent.max_steps)
    headers = {"X-Bridge-Backend": target.model.backend}
    events = run_agent(run, conversation, facts)
    async with aclosing(events):
        if ask.stream:
            deadline_at = asyncio.get_running_loop().time() + settings.request_timeout_s
            return await stream_sse(request, events, AgentFormat(target.model.id), headers, deadline_at, settings.keepalive_s)
        async with asyncio.timeout(settings.request_timeout_s):
            done = [event async for event in events if isinstance(event, AgentDone)][-1]
    reply = agent_reply(done, target.model.id)
    return web.json_response(reply, headers=headers, dumps=lambda o: json.dumps(o, ensure_ascii=False))
