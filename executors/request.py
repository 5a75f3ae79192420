"""The structured request every backend receives: messages, tools and parameters."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# The image types every backend takes (OpenAI's list): media type → file extension.
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """A tool call an assistant made earlier in the conversation; `arguments` is JSON object text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image in a message: its bytes and media type (one of IMAGE_TYPES).

    `url` is set, and `data` empty, only for an http(s) image the server has not fetched yet;
    a backend always receives fetched ones. `detail` is OpenAI's hint (`low`, `high`, `auto`);
    `origin` is where the client put it (`messages[1].content[2].image_url`), for errors.
    """

    media_type: str
    data: bytes = field(default=b"", repr=False)
    url: str | None = None
    detail: str | None = None
    origin: str = field(default="", compare=False)

    @property
    def extension(self) -> str:
        """The file extension for its type (`png`, `jpg`, …)."""
        return IMAGE_TYPES.get(self.media_type, "bin")

    def base64(self) -> str:
        """The bytes as base64 text."""
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """The image as a `data:` URL."""
        return f"data:{self.media_type};base64,{self.base64()}"


@dataclass(frozen=True, slots=True)
class Message:
    """One conversation message: its text flattened, its images apart (they follow the text)."""

    role: str  # system | developer | user | assistant | tool | function
    text: str
    name: str | None = None
    tool_calls: tuple[ToolCallRecord, ...] = ()
    tool_call_id: str | None = None
    images: tuple[ImagePart, ...] = ()


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
    def images(self) -> tuple[ImagePart, ...]:
        """Every image of the conversation, in order."""
        return tuple(image for message in self.messages for image in message.images)

    @property
    def reasoning_effort(self) -> str | None:
        """The `reasoning_effort` the client set, when this backend honours it."""
        value = self.params.get("reasoning_effort")
        return value if isinstance(value, str) else None

    @property
    def uses_tools(self) -> bool:
        """True when the model may call tools in this answer."""
        return bool(self.tools) and self.tool_choice != "none"
