"""The structured request every backend receives: messages, tools and parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """A tool call an assistant made earlier in the conversation; `arguments` is JSON object text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Message:
    """One conversation message with its text already flattened."""

    role: str  # system | developer | user | assistant | tool | function
    text: str
    name: str | None = None
    tool_calls: tuple[ToolCallRecord, ...] = ()
    tool_call_id: str | None = None


class ToolProtocol(Protocol):
    """How tools are written as text for a model that has no native tools.

    The server supplies it (its converter reads the same markup back); a backend that sends
    tools natively only needs it when it must fall back to text.
    """

    @property
    def dialect(self) -> str:
        """The markup dialect's name (e.g. `hermes`, `claude_xml`)."""

    def instructions(
        self, tools: Sequence[Mapping[str, Any]], *, tool_choice: Any, parallel_tool_calls: bool
    ) -> str:
        """The tool definitions and the calling protocol, for the system prompt."""

    def render_call(self, name: str, arguments: str) -> str:
        """An earlier call written in the dialect, so the model sees its own format (never raises)."""


@dataclass(frozen=True, slots=True)
class BackendRequest:
    """What a backend is asked to answer.

    `model` is the backend's own model id. `tools` are chat-completions function tools
    (`{"type": "function", "function": {...}}`). `params` holds only the OpenAI parameters
    this backend declared it honours (the pipeline refuses or emulates the rest).
    """

    model: str
    messages: tuple[Message, ...]
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: Any = "auto"
    parallel_tool_calls: bool = True
    tool_protocol: ToolProtocol | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uses_tools(self) -> bool:
        """True when the model may call tools in this answer."""
        return bool(self.tools) and self.tool_choice != "none"
