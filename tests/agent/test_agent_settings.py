"""AGENT_* settings: off by default, read when set, and every bad value names its variable."""

from __future__ import annotations

import json
from ipaddress import ip_network
from pathlib import Path

import pytest

from server.netguard.hostrules import parse_host_rule
from server.settings import ConfigError, Settings


def test_the_agent_is_off_by_default() -> None:
    agent = Settings.from_env({}).agent
    assert agent.enabled is False and agent.tools == () and agent.mcp_servers == ()
    assert agent.max_steps == 8 and agent.http.timeout_s == 10.0 and agent.http.max_bytes == 262_144
    assert agent.http.guard.allow == ()


def test_values_are_read(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"files": {"command": "mcp-files", "args": ["--ro"], "env": {"A": "1"}, "tools": ["read"]}}}))
    agent = Settings.from_env({
        "AGENT_TOOLS": "time_now, HTTP_REQUEST",
        "AGENT_HTTP_ALLOW": "api.example.com,*.example.org:8443,127.0.0.1:9000",
        "AGENT_HTTP_ALLOW_PRIVATE": "127.0.0.1:9000,10.20.0.0/16",
        "AGENT_MAX_STEPS": "3",
        "AGENT_HTTP_TIMEOUT": "2500",
        "AGENT_HTTP_MAX_BYTES": "1000",
        "AGENT_HTTP_MAX_REDIRECTS": "0",
        "AGENT_MCP_CONFIG": str(config),
        "AGENT_MCP_TIMEOUT": "1500",
    }).agent
    assert agent.enabled and agent.tools == ("time_now", "http_request")
    assert agent.http.guard.allow == (
        parse_host_rule("api.example.com"), parse_host_rule("*.example.org:8443"), parse_host_rule("127.0.0.1:9000"),
    )
    assert agent.http.guard.allow_private == (parse_host_rule("127.0.0.1:9000"),)
    assert agent.http.guard.private_networks == (ip_network("10.20.0.0/16"),)
    assert (agent.max_steps, agent.http.timeout_s, agent.http.max_bytes, agent.http.max_redirects) == (3, 2.5, 1000, 0)
    (server,) = agent.mcp_servers
    assert (server.name, server.command, server.args, dict(server.env), server.tools) == ("files", "mcp-files", ("--ro",), {"A": "1"}, ("read",))
    assert agent.mcp_timeout_s == 1.5


@pytest.mark.parametrize(
    ("env", "key", "fragment"),
    [
        ({"AGENT_TOOLS": "time_now,shell"}, "AGENT_TOOLS", "unknown tool 'shell'"),
        ({"AGENT_TOOLS": "http_request"}, "AGENT_HTTP_ALLOW", "no host is allowed"),
        ({"AGENT_TOOLS": "time_now", "AGENT_HTTP_ALLOW": "http://x.com"}, "AGENT_HTTP_ALLOW", "is not a host"),
        ({"AGENT_TOOLS": "time_now", "AGENT_HTTP_ALLOW_PRIVATE": "10.0.0.0/33"}, "AGENT_HTTP_ALLOW_PRIVATE", "is not a network"),
        ({"AGENT_TOOLS": "time_now", "AGENT_HTTP_ALLOW_PRIVATE": "host:99999"}, "AGENT_HTTP_ALLOW_PRIVATE", "port must be"),
        ({"AGENT_MAX_STEPS": "0"}, "AGENT_MAX_STEPS", "at least 1"),
        ({"AGENT_MAX_STEPS": "many"}, "AGENT_MAX_STEPS", "expected an integer"),
        ({"AGENT_HTTP_TIMEOUT": "0"}, "AGENT_HTTP_TIMEOUT", "at least 1"),
        ({"AGENT_HTTP_MAX_BYTES": "-5"}, "AGENT_HTTP_MAX_BYTES", "at least 1"),
        ({"AGENT_TOOLS": "time_now", "ENABLE_CLI_TOOLS": "true"}, "AGENT_TOOLS", "ENABLE_CLI_TOOLS=true"),
        ({"AGENT_MCP_CONFIG": "/nonexistent/mcp.json"}, "AGENT_MCP_CONFIG", "cannot read"),
    ],
)
def test_bad_values_name_their_variable(env: dict[str, str], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ") and fragment in str(info.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not valid JSON"),
        ('{"servers": {}}', 'must be an object with an "mcpServers" object'),
        ('{"mcpServers": {"a b": {"command": "x"}}}', "server names are"),
        ('{"mcpServers": {"s": {"args": []}}}', "mcpServers.s.command must be a non-empty string"),
        ('{"mcpServers": {"s": {"command": "x", "args": "-v"}}}', "mcpServers.s.args must be an array of strings"),
        ('{"mcpServers": {"s": {"command": "x", "env": {"A": 1}}}}', "mcpServers.s.env must be an object of strings"),
        ('{"mcpServers": {"s": {"url": "http://127.0.0.1:1/mcp"}}}', "unknown field 'url'"),
    ],
)
def test_bad_mcp_config_files_name_the_variable_and_the_field(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"AGENT_MCP_CONFIG": str(path)})
    assert info.value.key == "AGENT_MCP_CONFIG" and fragment in str(info.value)
