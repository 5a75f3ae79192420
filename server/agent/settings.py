"""The agent's settings (AGENT_*): its tools, where http_request may go, and its limits.

Off by default: no tool is enabled until the operator names one, or lists MCP servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from executors.envconfig import ConfigError, parse_bool, parse_int, parse_list
from server.agent.mcp_config import McpServerConfig, read_mcp_config
from server.netguard.config import guard_from_env
from server.netguard.guard import HttpGuard

BUILTIN_TOOLS = ("time_now", "http_request")


@dataclass(frozen=True, slots=True)
class HttpToolSettings:
    """Where http_request may go and how much it may take."""

    guard: HttpGuard = field(default_factory=HttpGuard)
    timeout_s: float = 10.0
    max_bytes: int = 262_144
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """Everything `/api/chat` and `/api/agent_chat` are configured with."""

    tools: tuple[str, ...] = ()  # the enabled built-in tools
    mcp_servers: tuple[McpServerConfig, ...] = ()
    mcp_timeout_s: float = 30.0
    max_steps: int = 8
    http: HttpToolSettings = field(default_factory=HttpToolSettings)

    @property
    def enabled(self) -> bool:
        """True when the operator enabled at least one tool (built-in or MCP)."""
        return bool(self.tools or self.mcp_servers)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AgentSettings:
        """Read AGENT_*; a bad value raises ConfigError naming the variable."""
        d = cls()
        tools = tuple(dict.fromkeys(t.lower() for t in parse_list(env, "AGENT_TOOLS")))
        unknown = [t for t in tools if t not in BUILTIN_TOOLS]
        if unknown:
            raise ConfigError("AGENT_TOOLS", f"unknown tool {unknown[0]!r}; built-in tools: {', '.join(BUILTIN_TOOLS)}")
        config = env.get("AGENT_MCP_CONFIG", "").strip()
        settings = cls(
            tools=tools,
            mcp_servers=read_mcp_config(Path(config)) if config else (),
            mcp_timeout_s=parse_int(env, "AGENT_MCP_TIMEOUT", 30_000, minimum=1) / 1000,
            max_steps=parse_int(env, "AGENT_MAX_STEPS", d.max_steps, minimum=1, maximum=100),
            http=HttpToolSettings(
                guard=guard_from_env(env, "AGENT_HTTP_ALLOW", "AGENT_HTTP_ALLOW_PRIVATE"),
                timeout_s=parse_int(env, "AGENT_HTTP_TIMEOUT", 10_000, minimum=1) / 1000,
                max_bytes=parse_int(env, "AGENT_HTTP_MAX_BYTES", d.http.max_bytes, minimum=1),
                max_redirects=parse_int(env, "AGENT_HTTP_MAX_REDIRECTS", d.http.max_redirects, minimum=0, maximum=20),
            ),
        )
        if settings.enabled and parse_bool(env, "ENABLE_CLI_TOOLS", False):
            # The agent's loop is the bridge's: a CLI running its own shell and file tools would bypass every rule here.
            raise ConfigError("AGENT_TOOLS", "the agent cannot be enabled together with ENABLE_CLI_TOOLS=true")
        if "http_request" in tools and not settings.http.guard.allow:
            raise ConfigError("AGENT_HTTP_ALLOW", "http_request is enabled but no host is allowed; list hosts (or * for any public host)")
        return settings
