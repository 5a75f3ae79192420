"""The seam between the agent loop and a way of talking to the model about tools.

A dialogue builds each turn's backend request from the conversation so far, reads the model's
turn from the pipeline's output events, and writes the calls and their results back into the
conversation. The function-calling dialogue uses the converter's tool protocol; the reason-then-act
dialogue its own thought/action/observation text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from executors import BackendRequest, Message
from server.agent.toolbox import ToolRun
from server.pipeline.events import OutputEvent

RequestBuilder = Callable[[Sequence[Message], Sequence[Mapping[str, Any]]], BackendRequest]
"""Messages and function tools → the backend request for the resolved model (pipeline.prepare)."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model made in one turn; `arguments` is the JSON text as it wrote it."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Turn:
    """What one model turn amounts to: calls to run, or the answer; and its thought, if any."""

    text: str  # what the model wrote outside call markup
    answer: str  # the answer, if this turn ends the loop
    calls: tuple[ToolCall, ...] = ()
    thought: str | None = None


class TurnReader(Protocol):
    """Reads one turn from the pipeline's output events."""

    def feed(self, event: OutputEvent) -> str:
        """Answer text to pass on now (empty when there is none)."""

    def finish(self) -> Turn:
        """The whole turn, once the events ended."""


class Dialogue(Protocol):
    """One way of asking a model to use tools."""

    def request(self, conversation: Sequence[Message]) -> BackendRequest:
        """The backend request for the next turn."""

    def reader(self) -> TurnReader:
        """A reader for the next turn."""

    def follow_up(self, turn: Turn, runs: Sequence[ToolRun]) -> list[Message]:
        """The messages that record the turn's calls and their results in the conversation."""
