"""What a tool is to the agent: a spec (name, description, JSON schema) and an async run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model and `/api/tools` see it; `source` is `builtin` or `mcp:<server>`."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    source: str = "builtin"

    def as_function_tool(self) -> dict[str, Any]:
        """The chat-completions function tool the prompt protocol renders."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": dict(self.parameters)},
        }

    def as_json(self) -> dict[str, Any]:
        """The tool's entry in `GET /api/tools`."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters, "source": self.source}


class ToolFailed(Exception):
    """A tool could not do what it was asked; the message becomes the model's observation."""

    status = "error"


class ToolRefused(ToolFailed):
    """A safety rule stopped the tool before it acted (a host not allowed, a private address…)."""

    status = "refused"


class Tool(Protocol):
    """Something the agent can run: validated arguments in, a JSON-serialisable result out.

    `run` raises ToolFailed (or ToolRefused) with a message for the model when it cannot
    answer; any other exception is a bug in the tool and is reported as an internal error.
    """

    @property
    def spec(self) -> ToolSpec:
        """Name, description and argument schema."""

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        """Do the work; the arguments already passed the spec's schema."""
