"""Render a structured request into what a CLI takes: a system prompt and one prompt.

A CLI takes one user message, so earlier turns are flattened into a transcript, with earlier
tool calls written in the model's own markup (the request's tool protocol). Images go along
with the prompt, each named `image-N.<ext>` in conversation order; in a transcript a line
`[image-N.<ext>]` marks where each was, and the image itself follows that line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from executors.request import BackendRequest, ImagePart, Message, ToolProtocol

SYSTEM_ROLES = ("system", "developer")
# The system prompt when a client sends none (and no tools): a chat API wants a plain assistant,
# not a CLI's own coding-agent prompt (8-22 KB of instructions about tools the model lacks here).
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
_HEADERS = {"user": "User", "assistant": "Assistant"}


@dataclass(frozen=True, slots=True)
class PromptImage:
    """An image as a CLI gets it: its name (`image-1.png`, also its file name) and the image."""

    name: str
    image: ImagePart


PromptPart = str | PromptImage


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """What the CLI gets: its system prompt, and the prompt as text with images in their places."""

    system_prompt: str
    parts: tuple[PromptPart, ...]

    @property
    def prompt(self) -> str:
        """The prompt's text (image markers included, images left out)."""
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def images(self) -> tuple[PromptImage, ...]:
        """The images, in order."""
        return tuple(p for p in self.parts if isinstance(p, PromptImage))


def system_prompt_of(request: BackendRequest) -> str:
    """System and developer messages, plus the tool protocol when the model may call tools."""
    system = "\n\n".join(m.text for m in request.messages if m.role in SYSTEM_ROLES and m.text.strip())
    if request.uses_tools and request.tool_protocol is not None:
        instructions = request.tool_protocol.instructions(
            request.tools, tool_choice=request.tool_choice, parallel_tool_calls=request.parallel_tool_calls
        )
        system = f"{system}\n\n{instructions}" if system else instructions
    return system


def render_transcript(request: BackendRequest) -> RenderedPrompt:
    """System/developer messages become the system prompt; the rest a clear transcript."""
    turns = [m for m in request.messages if m.role not in SYSTEM_ROLES]
    return RenderedPrompt(system_prompt_of(request), _transcript(turns, request.tool_protocol))


def _transcript(turns: Sequence[Message], tool_protocol: ToolProtocol | None) -> tuple[PromptPart, ...]:
    images = _Images()
    # A single user turn is sent as it is, exactly like typing it into the CLI (images alone are
    # named: a CLI takes no prompt without text).
    if len(turns) == 1 and turns[0].role == "user":
        named = images.named(turns[0])
        text = turns[0].text if turns[0].text.strip() or not named else "\n".join(f"[{i.name}]" for i in named)
        return (text, *named)
    if not turns:
        return ("Continue.",)
    names = {c.id: c.name for m in turns for c in m.tool_calls if c.id}
    parts: list[PromptPart] = ["The conversation so far:"]
    for message in turns:
        parts.append("\n\n" + _block(message, tool_protocol, names))
        for image in images.named(message):
            parts += [f"\n[{image.name}]", image]
    last = turns[-1].role
    ask = (
        "Continue as the assistant, using the tool results above."
        if last in ("tool", "function")
        else "Reply as the assistant to the last user message."
    )
    parts.append("\n\n" + ask)
    return _merged(parts)


class _Images:
    """Names the conversation's images in order: image-1.png, image-2.jpg, …"""

    def __init__(self) -> None:
        self._count = 0

    def named(self, message: Message) -> list[PromptImage]:
        named = []
        for image in message.images:
            self._count += 1
            named.append(PromptImage(f"image-{self._count}.{image.extension}", image))
        return named


def _merged(parts: Sequence[PromptPart]) -> tuple[PromptPart, ...]:
    out: list[PromptPart] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        else:
            out.append(part)
    return tuple(out)


def _block(message: Message, tool_protocol: ToolProtocol | None, names: Mapping[str, str]) -> str:
    if message.role in ("tool", "function"):
        name = message.name or names.get(message.tool_call_id or "", "")
        label = " ".join(p for p in (name, f"(call id {message.tool_call_id})" if message.tool_call_id else "") if p)
        body = message.text if message.text.strip() else "(the tool returned an empty result)"
        return f"### Tool result: {label}\n{body}"
    header = _HEADERS.get(message.role, message.role.title())
    parts = [message.text] if message.text else []
    parts += [_call(c.name, c.arguments, tool_protocol) for c in message.tool_calls]
    return f"### {header}\n" + "\n".join(parts)


def _call(name: str, arguments: str, tool_protocol: ToolProtocol | None) -> str:
    if tool_protocol is None:
        return f"(called tool {name} with arguments {arguments})"
    return tool_protocol.render_call(name, arguments)
