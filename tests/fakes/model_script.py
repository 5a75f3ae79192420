"""The fake model server's reply script: `[[fake:key=value]]` directives found in a request.

Directives: `reply`, `reply_file`, `chunks`, `delay`, `status`, and `reasoning` (thinking text
sent before the answer) with `reasoning_field` (the OpenAI delta field that carries it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_REPLY = "Hello from mock."
DEFAULT_CHUNKS = 3
INVALID_MODEL = "invalid-model"
# vLLM and DeepSeek's field; Copilot 1.0.102 also reads `reasoning` and `reasoning_text` (captured).
DEFAULT_REASONING_FIELD = "reasoning_content"
DIRECTIVE_RE = re.compile(r"\[\[fake:(\w+)=(.*?)\]\]", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Script:
    """What to answer to one request."""

    reply: str
    chunks: list[str]
    delay: float
    status: int | None
    reasoning: list[str]  # thinking pieces, sent before the answer
    reasoning_field: str = DEFAULT_REASONING_FIELD


def split_chunks(text: str, n: int) -> list[str]:
    """Split text into n pieces, at word starts when there are enough words, else by characters."""
    if not text:
        return []
    n = max(1, min(n, len(text)))
    words = re.findall(r"\s*\S+|\s+$", text)
    pieces = words if n <= len(words) else list(text)
    return ["".join(pieces[i * len(pieces) // n : (i + 1) * len(pieces) // n]) for i in range(n)]


def count_tokens(text: str) -> int:
    """The fakes' token estimate: a quarter of the characters, at least 1."""
    return max(1, len(text) // 4)


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (where directives may hide), depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)


def find_directives(texts: list[str]) -> dict[str, str]:
    """All `[[fake:key=value]]` directives in the texts; a later one overrides an earlier one.

    `reply` and `reply_file` are one setting: the later of the two wins, as in the fake CLIs.
    """
    found: dict[str, str] = {}
    for text in texts:
        for key, value in DIRECTIVE_RE.findall(text):
            if key in ("reply", "reply_file"):
                found.pop("reply", None)
                found.pop("reply_file", None)
            found[key] = value
    return found


def script_for(texts: list[str]) -> Script:
    """Build the reply script from the directives in a request's message texts."""
    directives = find_directives(texts)
    if "reply_file" in directives:
        reply = Path(directives["reply_file"]).read_text(encoding="utf-8")
    else:
        reply = directives.get("reply", DEFAULT_REPLY)
    n = int(directives.get("chunks", DEFAULT_CHUNKS))
    status = int(directives["status"]) if "status" in directives else None
    reasoning = split_chunks(directives.get("reasoning", ""), n)
    field = directives.get("reasoning_field", DEFAULT_REASONING_FIELD)
    return Script(reply, split_chunks(reply, n), float(directives.get("delay", 0)), status, reasoning, field)


def message_texts(body: dict[str, Any]) -> list[str]:
    """The strings of a request's system prompt and messages, in order (image data left out)."""
    return list(strings_in(body.get("system"))) + list(strings_in(_without_images(body.get("messages"))))


def prompt_chars(body: dict[str, Any]) -> int:
    """The prompt's size in characters, for the token estimate."""
    return sum(len(s) for s in message_texts(body))


def image_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The images a request carries: OpenAI `image_url` parts and Anthropic `image` blocks."""
    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") in ("image_url", "image"):
                found.append(value)
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body.get("messages"))
    return found


def _without_images(value: Any) -> Any:
    # Base64 data is no place for directives, and would inflate the token estimate.
    if isinstance(value, dict):
        if value.get("type") in ("image_url", "image"):
            return None
        return {k: _without_images(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_images(v) for v in value]
    return value
