"""Render chat messages (and tools) into a CLI system prompt and a transcript prompt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.converters import render_tool_call, render_tool_instructions
from server.messages import Message

_SYSTEM_ROLES = ("system", "developer")
_HEADERS = {"user": "User", "assistant": "Assistant"}


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """What the CLI gets: its system prompt and the prompt text for stdin."""

    system_prompt: str
    prompt: str


def render_prompt(
    messages: Sequence[Message],
    *,
    tools: Sequence[Mapping[str, Any]] = (),
    tool_choice: Any = "auto",
    parallel_tool_calls: bool = True,
    dialect: str = "hermes",
) -> RenderedPrompt:
    """System/developer messages become the system prompt; the rest a clear transcript."""
    system = "\n\n".join(m.text for m in messages if m.role in _SYSTEM_ROLES and m.text.strip())
    if tools and tool_choice != "none":
        instructions = render_tool_instructions(
            tools, tool_choice=tool_choice, parallel_tool_calls=parallel_tool_calls, dialect=dialect
        )
        system = f"{system}\n\n{instructions}" if system else instructions
    turns = [m for m in messages if m.role not in _SYSTEM_ROLES]
    return RenderedPrompt(system, _transcript(turns, dialect))


def _transcript(turns: Sequence[Message], dialect: str) -> str:
    # A single user turn is sent as it is, exactly like typing it into the CLI.
    if len(turns) == 1 and turns[0].role == "user":
        return turns[0].text
    if not turns:
        return "Continue."
    names = {c.id: c.name for m in turns for c in m.tool_calls if c.id}
    blocks = [_block(m, dialect, names) for m in turns]
    last = turns[-1].role
    ask = (
        "Continue as the assistant, using the tool results above."
        if last in ("tool", "function")
        else "Reply as the assistant to the last user message."
    )
    return "\n\n".join(["The conversation so far:", *blocks, ask])


def _block(message: Message, dialect: str, names: Mapping[str, str]) -> str:
    if message.role in ("tool", "function"):
        name = message.name or names.get(message.tool_call_id or "", "")
        label = " ".join(p for p in (name, f"(call id {message.tool_call_id})" if message.tool_call_id else "") if p)
        body = message.text if message.text.strip() else "(the tool returned an empty result)"
        return f"### Tool result: {label}\n{body}"
    header = _HEADERS.get(message.role, message.role.title())
    parts = [message.text] if message.text else []
    parts += [render_tool_call(c.name, c.arguments, dialect) for c in message.tool_calls]
    return f"### {header}\n" + "\n".join(parts)
