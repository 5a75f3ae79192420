"""Copilot's reasoning events (one-shot JSON and headless alike) as ReasoningDeltas.

Captured from copilot 1.0.102 with a BYOK model that streams `reasoning_content` (or
`reasoning`, or `reasoning_text`): `assistant.reasoning_delta {reasoningId, deltaContent}` per
piece, then, after `assistant.message` (whose `reasoningText` repeats it), one
`assistant.reasoning {reasoningId, content}` with the whole text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executors.events import BackendEvent, ReasoningDelta

REASONING_EVENTS = frozenset({"assistant.reasoning_delta", "assistant.reasoning"})


class ReasoningStream:
    """The reasoning of one run: pieces as they stream; a whole block only if none of it streamed."""

    def __init__(self) -> None:
        self._streamed: set[str] = set()

    def feed(self, kind: object, data: Mapping[str, Any]) -> list[BackendEvent]:
        """The reasoning in one event (nothing for other events)."""
        reasoning_id = str(data.get("reasoningId", ""))
        if kind == "assistant.reasoning_delta":
            text = data.get("deltaContent")
            self._streamed.add(reasoning_id)
        elif kind == "assistant.reasoning" and reasoning_id not in self._streamed:
            text = data.get("content")
        else:
            return []
        return [ReasoningDelta(text)] if isinstance(text, str) and text else []
