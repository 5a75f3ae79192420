"""The agent's tools for one app: the built-ins the operator enabled plus the MCP servers' tools."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

from aiohttp import web

from server.agent.http_tool import HttpRequest
from server.agent.mcp_tools import McpServers
from server.agent.settings import AgentSettings
from server.agent.time_tool import TimeNow
from server.agent.toolbox import BodyLogging, Toolbox
from server.agent.tooltypes import Tool
from server.keys import SETTINGS, TOOLBOX

# Environment variables whose values are credentials (backend keys, tokens): never sent by a tool.
_CREDENTIAL_NAME = re.compile(r"(KEY|KEYS|TOKEN|SECRET|PASSWORD)$|API_KEY", re.IGNORECASE)


def bridge_secrets(api_keys: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    """The bridge's own API keys and the credentials in the environment its backends run with."""
    found = [*api_keys]
    for name, value in env.items():
        if _CREDENTIAL_NAME.search(name):
            found += [part.strip() for part in value.split(",")]
    return tuple(dict.fromkeys(s for s in found if len(s) >= 8))


def builtin_tools(agent: AgentSettings, secrets: Sequence[str]) -> list[Tool]:
    """The enabled built-in tools, in the order AGENT_TOOLS names them."""
    makers: dict[str, Callable[[], Tool]] = {
        "time_now": TimeNow,
        "http_request": lambda: HttpRequest(agent.http, secrets),
    }
    return [makers[name]() for name in agent.tools]


def agent_tools_ctx(env: Mapping[str, str]) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that builds the toolbox (starting MCP servers) and stops them with the app."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        secrets = bridge_secrets(settings.api_keys, env)
        servers = McpServers(settings.agent.mcp_servers, settings.agent.mcp_timeout_s)
        try:
            await servers.start()
            tools = builtin_tools(settings.agent, secrets) + servers.tools
            app[TOOLBOX] = Toolbox(tools, BodyLogging(settings.log_request_body, settings.log_response_body))
            yield
        finally:
            await servers.aclose()

    return context
