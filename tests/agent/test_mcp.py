"""MCP tools through the official SDK's stdio client, against a real MCP server written with the same SDK."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from server.agent.mcp_config import McpServerConfig
from server.agent.mcp_tools import McpServers, exposed_name
from server.agent.tooltypes import ToolFailed
from tests.agent.script import scripted, turns
from tests.conftest import MakeClient

SERVER = Path(__file__).with_name("mcp_test_server.py")


def config(name: str = "test", **extra: Any) -> McpServerConfig:
    return McpServerConfig(name=name, command=sys.executable, args=(str(SERVER),), **extra)


def by_name(servers: McpServers) -> dict[str, Any]:
    return {tool.spec.name: tool for tool in servers.tools}


async def test_tools_are_listed_and_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_SECRET_TOKEN", "must-not-leak-0123")
    servers = McpServers([config(env={"GREETING": "hello"})], timeout_s=10)
    try:
        await servers.start()
        tools = by_name(servers)
        assert sorted(tools) == ["test__add", "test__environment", "test__fail", "test__pid", "test__slow"]
        add = tools["test__add"].spec
        assert add.source == "mcp:test" and add.description == "Add two integers."
        assert add.parameters["required"] == ["a", "b"] and add.parameters["properties"]["a"]["type"] == "integer"
        assert await tools["test__add"].run({"a": 2, "b": 3}) == {"result": 5}
        with pytest.raises(ToolFailed, match="the disk is on fire"):
            await tools["test__fail"].run({"reason": "the disk is on fire"})
        # The server gets its configured environment, not the bridge's.
        assert await tools["test__environment"].run({"name": "GREETING"}) == {"result": "hello"}
        assert await tools["test__environment"].run({"name": "BRIDGE_SECRET_TOKEN"}) == {"result": ""}
        pid = (await tools["test__pid"].run({}))["result"]
    finally:
        await servers.aclose()
    assert await _gone(pid)


async def test_the_operator_can_offer_only_some_tools_and_calls_time_out() -> None:
    servers = McpServers([config(tools=("add", "slow"))], timeout_s=0.5)
    try:
        await servers.start()
        assert sorted(by_name(servers)) == ["test__add", "test__slow"]
        with pytest.raises(ToolFailed, match=r"did not answer within 0.5 s"):
            await by_name(servers)["test__slow"].run({"seconds": 5})
        assert await by_name(servers)["test__add"].run({"a": 1, "b": 1}) == {"result": 2}  # still usable
    finally:
        await servers.aclose()


async def test_a_server_that_cannot_start_is_logged_and_left_out() -> None:
    broken = McpServerConfig(name="broken", command=sys.executable, args=("-c", "import sys; sys.exit(3)"))
    missing = McpServerConfig(name="missing", command="/nonexistent/mcp-server")
    servers = McpServers([broken, missing, config()], timeout_s=5)
    with capture_logs() as logs:
        try:
            await servers.start()
            assert "test__add" in by_name(servers)
        finally:
            await servers.aclose()
    failed = [entry["server"] for entry in logs if entry["event"] == "mcp_server_failed"]
    assert failed == ["broken", "missing"]


def test_exposed_names_keep_to_the_characters_tool_names_allow() -> None:
    assert exposed_name("files", "read.file/v2") == "files__read_file_v2"
    assert len(exposed_name("s", "x" * 100)) == 64


async def _gone(pid: int, within_s: float = 10.0) -> bool:
    for _ in range(int(within_s / 0.1)):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.parametrize("endpoint", ["/api/chat", "/api/agent_chat"])
async def test_mcp_tools_through_the_agent_endpoints(make_client: MakeClient, tmp_path: Path, endpoint: str) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"test": {"command": sys.executable, "args": [str(SERVER)], "tools": ["add", "pid"]}}}))
    client = await make_client(config={"AGENT_MCP_CONFIG": str(path)})
    listing = await (await client.get("/api/tools")).json()
    assert [(t["name"], t["source"]) for t in listing["tools"]] == [("test__add", "mcp:test"), ("test__pid", "mcp:test")]
    model = "claude/sonnet"
    script = turns(endpoint, model, [("test__add", {"a": 2, "b": "x"}), ("test__add", {"a": 2, "b": 3}), ("test__pid", {})], "2 + 3 = 5.")
    response = await client.post(endpoint, json={"message": scripted(tmp_path, "Add 2 and 3.", script), "model": model})
    body = await response.json()
    assert response.status == 200 and body["answer"] == "2 + 3 = 5."
    bad, good, pid = body["steps"]
    assert bad["status"] == "invalid_arguments" and "arguments.b: 'x' is not of type 'integer'" in bad["result"]["error"]
    assert (good["status"], good["result"]) == ("ok", {"result": 5})
    await client.close()  # the app stops its MCP servers
    assert await _gone(pid["result"]["result"])
