"""Reading a reason-then-act turn: `Thought:` / `Action:` / `Action Input:` or `Final Answer:`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

ACTION = re.compile(r"^[ \t]*Action[ \t]*:[ \t]*(.*)$", re.MULTILINE | re.IGNORECASE)
ACTION_INPUT = re.compile(r"^[ \t]*Action[ \t]*Input[ \t]*:", re.MULTILINE | re.IGNORECASE)
FINAL = re.compile(r"Final[ \t]+Answer[ \t]*:", re.IGNORECASE)
THOUGHT = re.compile(r"^[ \t]*Thought[ \t]*:", re.MULTILINE | re.IGNORECASE)
OBSERVATION = re.compile(r"^[ \t]*Observation[ \t]*:", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReactTurn:
    """One parsed turn: an action with its input text, or an answer; `kept` is what stays in the conversation."""

    kept: str
    thought: str | None
    action: str | None = None
    action_input: str = "{}"
    answer: str = ""


def parse_react(text: str) -> ReactTurn:
    """Whichever comes first wins: an action (what follows it is the model imagining the result) or the answer."""
    action = ACTION.search(text)
    final = FINAL.search(text)
    if action is not None and (final is None or action.start() < final.start()):
        return _action_turn(text, action)
    if final is not None:
        return ReactTurn(kept=text.strip(), thought=_thought(text[: final.start()]), answer=text[final.end():].strip())
    # No format at all: the model answered directly.
    return ReactTurn(kept=text.strip(), thought=None, answer=THOUGHT.sub("", text, count=1).strip())


def _action_turn(text: str, action: re.Match[str]) -> ReactTurn:
    name = action.group(1).strip().strip("`'\"[]()").strip()
    end = action.end()
    arguments = "{}"
    given = ACTION_INPUT.search(text, action.end())
    if given is not None:
        arguments, end = _input(text, given.end())
    else:
        stop = OBSERVATION.search(text, end)
        end = stop.start() if stop else end
    return ReactTurn(kept=text[:end].strip(), thought=_thought(text[: action.start()]), action=name, action_input=arguments)


def _input(text: str, start: int) -> tuple[str, int]:
    """The action input (one JSON value when there is one) and where it ends."""
    brace = text.find("{", start)
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    if brace >= 0 and not text[start:brace].strip("` \t\n").removeprefix("json").strip():
        try:
            value, end = json.JSONDecoder().raw_decode(text, brace)
        except ValueError:
            return text[start:line_end].strip(), line_end  # not JSON: the schema check says so to the model
        return json.dumps(value, ensure_ascii=False), _past_fence(text, end)
    raw = text[start:line_end].strip()
    return raw or "{}", line_end


def _past_fence(text: str, end: int) -> int:
    rest = text[end:]
    stripped = rest.lstrip(" \t\n")
    return end + (len(rest) - len(stripped)) + 3 if stripped.startswith("```") else end


def _thought(text: str) -> str | None:
    label = THOUGHT.search(text)
    thought = (text[label.end():] if label else text).strip()
    return thought or None
