"""What the agent loop yields while it works: answer text, tool calls and their runs, the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.agent.toolbox import ToolRun
from server.pipeline.events import Usage


@dataclass(frozen=True, slots=True)
class AnswerText:
    """Answer text as the model writes it (text beside tool calls included, never the markup)."""

    text: str


@dataclass(frozen=True, slots=True)
class Step:
    """One tool run of the loop, numbered from 1, with the model's thought when it wrote one."""

    number: int
    run: ToolRun
    thought: str | None = None

    def as_json(self) -> dict[str, Any]:
        """`{"tool", "arguments", "result", "status", "ms"}` (and `"thought"`)."""
        out = self.run.as_json()
        if self.thought:
            out["thought"] = self.thought
        return out


@dataclass(frozen=True, slots=True)
class ToolCalled:
    """The model asked for a tool; the bridge runs it now."""

    number: int
    tool: str
    arguments: Any
    thought: str | None = None


@dataclass(frozen=True, slots=True)
class StepDone:
    """A tool ran; its result goes back to the model."""

    step: Step


@dataclass(frozen=True, slots=True)
class AgentDone:
    """The last event: the answer, why the loop ended (`stop` or `max_steps`), every step, usage summed."""

    answer: str
    finish_reason: str
    steps: tuple[Step, ...]
    usage: Usage


AgentEvent = AnswerText | ToolCalled | StepDone | AgentDone
