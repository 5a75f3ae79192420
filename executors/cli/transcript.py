"""Render a structured request into what a CLI takes: a system prompt and one prompt text.

A CLI takes one user message, so earlier turns are flattened into a transcript, with earlier
tool calls written in the model's own markup (the request's tool protocol).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from executors.request import BackendRequest, Message, ToolProtocol

SYSTEM_ROLES = ("system", "developer")
# The system prompt when a client sends none (and no tools): a chat API wants a plain assistant,
# not a CLI's own coding-agent prompt (8-22 KB of instructions about tools the model lacks here).
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
_HEADERS = {"user": "User", "assistant": "Assistant"}


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """What the CLI gets: its system prompt and the prompt text for stdin."""

    system_prompt: str
    prompt: str


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


def _transcript(turns: Sequence[Message], tool_protocol: ToolProtocol | None) -> str:
    # A single user turn is sent as it is, exactly like typing it into the CLI.
    if len(turns) == 1 and turns[0].role == "user":
        return turns[0].text
    if not turns:
        return "Continue."
    names = {c.id: c.name for m in turns for c in m.tool_calls if c.id}
    blocks = [_block(m, tool_protocol, names) for m in turns]
    last = turns[-1].role
    ask = (
        "Continue as the assistant, using the tool results above."
        if last in ("tool", "function")
        else "Reply as the assistant to the last user message."
    )
    return "\n\n".join(["The conversation so far:", *blocks, ask])


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
