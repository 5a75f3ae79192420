"""Tools from MCP servers, through the official `mcp` SDK's client over the stdio transport.

Each configured server is started with the app and kept for its lifetime. The SDK's client
lives in anyio scopes, which must be entered and left in one task, so each server gets its own
task that connects, lists the tools, and holds the session open until the app stops; calls from
request handlers go through that session. A server that fails to start is logged and left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from server.agent.mcp_config import McpServerConfig
from server.agent.tooltypes import Tool, ToolFailed, ToolSpec

if TYPE_CHECKING:
    from mcp import Client
    from mcp.types import CallToolResult
    from mcp.types import Tool as McpToolInfo

log = structlog.get_logger(__name__)
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
MAX_LIST_PAGES = 20
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def exposed_name(server: str, tool: str) -> str:
    """The agent's name for an MCP tool: `<server>__<tool>`, in the characters tool names allow."""
    return _UNSAFE_NAME.sub("_", f"{server}__{tool}")[:64]


class McpServer:
    """One MCP server's session, held open by its own task."""

    def __init__(self, config: McpServerConfig, timeout_s: float) -> None:
        self.config = config
        self._timeout_s = timeout_s
        self._client: Client | None = None
        self._ready: asyncio.Future[list[McpToolInfo]] | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> list[McpToolInfo]:
        """Start the server and list its tools; raises what went wrong."""
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._hold(), name=f"mcp-{self.config.name}")
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            return await self._ready

    async def _hold(self) -> None:
        from mcp import (  # imported when an MCP server is configured: it is heavy
            Client,
            StdioServerParameters,
        )

        assert self._ready is not None
        params = StdioServerParameters(
            command=self.config.command, args=list(self.config.args), env=dict(self.config.env) or None, cwd=self.config.cwd
        )
        try:
            async with Client(params, read_timeout_seconds=self._timeout_s) as client:
                tools = await _list_tools(client)
                if self._ready.done():  # start() gave up waiting
                    return
                self._client = client
                self._ready.set_result(tools)
                await self._stop.wait()
        except Exception as exc:  # noqa: BLE001 - reported to start(), or logged once it was running
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                log.error("mcp_server_lost", server=self.config.name, error=str(exc) or type(exc).__name__)
        finally:
            self._client = None

    async def call(self, name: str, arguments: Mapping[str, Any]) -> CallToolResult:
        """Call one of its tools; ToolFailed when the server is gone or does not answer in time."""
        client = self._client
        if client is None:
            raise ToolFailed(f"the MCP server {self.config.name!r} is not running")
        try:
            async with asyncio.timeout(self._timeout_s):
                return await client.call_tool(name, dict(arguments), read_timeout_seconds=self._timeout_s)
        except TimeoutError:
            raise ToolFailed(f"the MCP server {self.config.name!r} did not answer within {self._timeout_s:g} s") from None
        except Exception as exc:  # noqa: BLE001 - protocol and transport errors are the model's observation
            raise ToolFailed(f"the MCP server {self.config.name!r} failed: {exc or type(exc).__name__}") from None

    async def aclose(self) -> None:
        """Stop the server (the SDK closes its stdin, then terminates it) and wait for the task."""
        self._stop.set()
        if self._task is not None:
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task


async def _list_tools(client: Client) -> list[McpToolInfo]:
    tools: list[McpToolInfo] = []
    cursor: str | None = None
    for _ in range(MAX_LIST_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


class McpTool:
    """One tool of an MCP server, as the agent offers it."""

    def __init__(self, server: McpServer, info: McpToolInfo) -> None:
        self._server = server
        self._name = info.name
        self._spec = ToolSpec(
            name=exposed_name(server.config.name, info.name),
            description=info.description or info.title or info.name,
            parameters=info.input_schema,
            source=f"mcp:{server.config.name}",
        )

    @property
    def spec(self) -> ToolSpec:
        """The tool's name (`<server>__<tool>`), description and schema."""
        return self._spec

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        """The structured result when the tool gives one, else its text; ToolFailed for an error result."""
        result = await self._server.call(self._name, arguments)
        text = "\n".join(
            block.text if block.type == "text" else f"[{block.type} content not shown]" for block in result.content
        )
        if result.is_error:
            raise ToolFailed(text or "the tool reported an error")
        return result.structured_content if result.structured_content is not None else text


class McpServers:
    """Every configured MCP server, started together, closed together."""

    def __init__(self, configs: Sequence[McpServerConfig], timeout_s: float) -> None:
        self._servers = [McpServer(config, timeout_s) for config in configs]
        self.tools: list[Tool] = []

    async def start(self) -> None:
        """Start each server and collect its tools; a server that fails is logged and skipped."""
        for server in self._servers:
            try:
                infos = await server.start()
            except Exception as exc:  # noqa: BLE001 - one broken server should not stop the bridge
                log.error("mcp_server_failed", server=server.config.name, error=str(exc) or type(exc).__name__)
                await server.aclose()
                continue
            wanted = server.config.tools
            chosen = [info for info in infos if wanted is None or info.name in wanted]
            self.tools += [McpTool(server, info) for info in chosen]
            log.info("mcp_server_started", server=server.config.name, tools=[info.name for info in chosen])

    async def aclose(self) -> None:
        """Stop every server."""
        for server in self._servers:
            await server.aclose()
