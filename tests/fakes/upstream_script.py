"""Multi-turn scripts for the fake upstream: `[[fake:replies_file=/abs/path.json]]`.

The file holds a JSON array; a request that already carries N assistant messages gets item N (the
last item once the script has run out), as the fake CLIs do with their transcript. An item is
- a string: the reply text, which may carry tool-call markup; `[[fake:…]]` directives in it
  (`tool_call`, `tool_style`, `reasoning`, `finish`, …) apply to that turn and are cut from the text;
- an object `{"tool_call": NAME, "arguments": {…} or "raw JSON text", "content": "text beside it"}`:
  one tool call, native or written as markup by `tool_style`, like a `tool_call` directive;
- a list of such objects: parallel calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.model_server import DIRECTIVE_RE

REPLY_KEYS = ("reply", "reply_file", "replies_file")


@dataclass(frozen=True, slots=True)
class ScriptedTurn:
    """One item of a script: its text, its calls (name, JSON arguments text) and its directives."""

    text: str
    calls: tuple[tuple[str, str], ...] = ()
    directives: str = ""  # a text item as written: its directives are read after the request's


def scripted_turn(texts: list[str], assistant_turns: int) -> ScriptedTurn | None:
    """This turn's item, when `replies_file` is the last of `reply`, `reply_file`, `replies_file`."""
    last: tuple[str, str] | None = None
    for text in texts:
        for key, value in DIRECTIVE_RE.findall(text):
            if key in REPLY_KEYS:
                last = (key, value)
    if last is None or last[0] != "replies_file":
        return None
    items = json.loads(Path(last[1]).read_text(encoding="utf-8"))
    if not isinstance(items, list) or not items:
        raise ValueError(f"{last[1]}: expected a non-empty JSON array of replies")
    return turn_of(items[min(assistant_turns, len(items) - 1)])


def turn_of(item: Any) -> ScriptedTurn:
    """A script item as a turn (see the module docstring for the three forms)."""
    if isinstance(item, str):
        return ScriptedTurn(DIRECTIVE_RE.sub("", item), (), item)
    specs = item if isinstance(item, list) else [item]
    if not specs or not all(isinstance(spec, dict) and isinstance(spec.get("tool_call"), str) for spec in specs):
        raise ValueError(f"a script item is a string, a tool_call object or a list of them, not {item!r}")
    text = "\n".join(str(spec["content"]) for spec in specs if spec.get("content"))
    return ScriptedTurn(text, tuple((spec["tool_call"], _arguments(spec.get("arguments", {}))) for spec in specs))


def _arguments(value: Any) -> str:
    # A string is the arguments text as the model wrote it, broken JSON included.
    return value if isinstance(value, str) else json.dumps(value)
