"""AGENT_MCP_CONFIG: the MCP servers whose tools the agent may use, read from a JSON file.

The file has the shape other MCP clients use:
`{"mcpServers": {"name": {"command": "...", "args": [...], "env": {...}, "cwd": "...", "tools": [...]}}}`;
`tools`, when given, lists the only tools of that server the agent offers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from executors.envconfig import ConfigError

KEY = "AGENT_MCP_CONFIG"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_FIELDS = frozenset({"command", "args", "env", "cwd", "tools"})


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One MCP server the bridge starts (stdio transport) and keeps for its lifetime."""

    name: str
    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    tools: tuple[str, ...] | None = None  # None: every tool it lists


def read_mcp_config(path: Path) -> tuple[McpServerConfig, ...]:
    """The servers the file lists; ConfigError naming AGENT_MCP_CONFIG when it is unreadable or wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(KEY, f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(KEY, f"{str(path)!r} is not valid JSON: {exc}") from None
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ConfigError(KEY, f"{str(path)!r} must be an object with an \"mcpServers\" object")
    return tuple(_server(name, entry) for name, entry in servers.items())


def _server(name: str, entry: Any) -> McpServerConfig:
    where = f"mcpServers.{name}"
    if not _NAME.match(name):
        raise ConfigError(KEY, f"{where}: server names are 1-32 letters, digits, '_' or '-'")
    if not isinstance(entry, dict):
        raise ConfigError(KEY, f"{where} must be an object")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ConfigError(KEY, f"{where}: unknown field {unknown[0]!r} (only stdio servers: {', '.join(sorted(_FIELDS))})")
    command = entry.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(KEY, f"{where}.command must be a non-empty string")
    return McpServerConfig(
        name=name,
        command=command,
        args=_strings(entry.get("args", []), f"{where}.args"),
        env=_env(entry.get("env", {}), f"{where}.env"),
        cwd=_optional_string(entry.get("cwd"), f"{where}.cwd"),
        tools=_strings(entry["tools"], f"{where}.tools") if "tools" in entry else None,
    )


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(KEY, f"{where} must be an array of strings")
    return tuple(value)


def _env(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(KEY, f"{where} must be an object of strings")
    return dict(value)


def _optional_string(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(KEY, f"{where} must be a string")
    return value
