"""Scripting the fake CLIs' side of an agent conversation: one reply per model turn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The model ids the tests use, and the tool-call markup each one is asked for (the backend's default dialect).
DIALECTS = {"copilot/gpt-5.4": "hermes", "claude/sonnet": "claude_xml"}


def call(model: str, name: str, arguments: dict[str, Any], before: str = "") -> str:
    """A turn that calls one tool, in the markup the model's dialect uses."""
    if DIALECTS[model] == "hermes":
        return f'{before}<tool_call>\n{{"name": "{name}", "arguments": {json.dumps(arguments)}}}\n</tool_call>'
    params = "\n".join(
        f'<parameter name="{k}">{v if isinstance(v, str) else json.dumps(v)}</parameter>' for k, v in arguments.items()
    )
    return f'{before}<function_calls>\n<invoke name="{name}">\n{params}\n</invoke>\n</function_calls>'


def action(name: str, arguments: Any, thought: str) -> str:
    """A reason-then-act turn that asks for one tool (arguments as JSON, or raw text when a string)."""
    given = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return f"Thought: {thought}\nAction: {name}\nAction Input: {given}"


def final(answer: str) -> str:
    """A reason-then-act turn that answers."""
    return f"Thought: I can answer now.\nFinal Answer: {answer}"


def scripted(tmp_path: Path, message: str, replies: list[Any], chunks: int = 7) -> str:
    """The user message with the directives that make the fake CLI (or the fake upstream) answer turn by turn."""
    path = tmp_path / f"script-{len(list(tmp_path.glob('script-*.json')))}.json"
    path.write_text(json.dumps(replies), encoding="utf-8")
    return f"{message} [[fake:replies_file={path}]] [[fake:chunks={chunks}]]"


def turns(endpoint: str, model: str, calls: list[tuple[str, Any]], answer: str, before: str = "") -> list[str]:
    """The model's turns for one endpoint: each call in its protocol (tool markup, or an action), then the answer."""
    if endpoint == "/api/chat":
        return [call(model, name, args, before if i == 0 else "") for i, (name, args) in enumerate(calls)] + [answer]
    return react_turns(calls, answer)


def react_turns(calls: list[tuple[str, Any]], answer: str) -> list[str]:
    """Reason-then-act turns: one action per call, then the final answer."""
    return [action(name, args, f"I should use {name}.") for name, args in calls] + [final(answer)]


def upstream_turns(endpoint: str, calls: list[tuple[str, Any]], answer: str, before: str = "") -> list[Any]:
    """The fake upstream's script for one endpoint: tool-call items (native, or markup by the server's
    tool_style) with `before` beside the first, then the answer; or reason-then-act turns."""
    if endpoint == "/api/chat":
        items: list[Any] = [{"tool_call": name, "arguments": args} for name, args in calls]
        if before and items:
            items[0]["content"] = before
        return [*items, answer]
    return react_turns(calls, answer)


async def named_events(response: Any) -> list[tuple[str, Any]]:
    """Every `event:`/`data:` pair of an SSE response, data JSON-decoded, keep-alive comments skipped."""
    raw = (await response.read()).decode()
    assert raw.endswith("\n\n"), "the last event must be terminated by a blank line"
    events = []
    for block in raw.split("\n\n"):
        if not block or block.startswith(":"):
            continue
        name_line, data_line = block.split("\n")
        assert name_line.startswith("event: ") and data_line.startswith("data: "), block
        events.append((name_line[len("event: "):], json.loads(data_line[len("data: "):])))
    return events
