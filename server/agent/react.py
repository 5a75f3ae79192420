"""The reason-then-act dialogue (`/api/agent_chat`): tools described in plain text, one action per
turn, results fed back as `Observation:` messages. For models that follow tool markup poorly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from executors import BackendRequest, Message
from server.agent.dialogue import RequestBuilder, ToolCall, Turn
from server.agent.react_text import FINAL, parse_react
from server.agent.toolbox import ToolRun
from server.agent.tooltypes import ToolSpec
from server.converters import TextOut
from server.pipeline.events import OutputEvent


def react_prompt(specs: Sequence[ToolSpec]) -> str:
    """The system prompt: the tools, and the thought / action / observation format."""
    tools = "\n\n".join(
        f"{s.name}: {s.description}\n  Action Input schema: {json.dumps(s.parameters, ensure_ascii=False)}" for s in specs
    )
    names = ", ".join(s.name for s in specs)
    return (
        "Answer the user's question. You can use these tools, which the server runs for you:\n\n"
        f"{tools}\n\n"
        "Work in this format:\n\n"
        "Thought: what you need to do next\n"
        f"Action: the name of one tool ({names})\n"
        "Action Input: the tool's arguments as one JSON object on one line\n\n"
        'Then stop writing: the result comes back to you as "Observation: ...". Repeat Thought, Action '
        "and Action Input as often as you need. When you can answer, write:\n\n"
        "Thought: I can answer now.\n"
        "Final Answer: the answer for the user"
    )


@dataclass(slots=True)
class _ReactReader:
    """Collects the turn's text; streams what follows `Final Answer:` as it arrives."""

    text: list[str] = field(default_factory=list)
    answer_from: int | None = None  # where the answer starts in the joined text, once known
    sent: int = 0  # how much of the answer went out

    def feed(self, event: OutputEvent) -> str:
        if not isinstance(event, TextOut):
            return ""
        self.text.append(event.text)
        whole = "".join(self.text)
        if self.answer_from is None:
            final = FINAL.search(whole)
            if final is None or parse_react(whole).action is not None:
                return ""
            self.answer_from = final.end()
        answer = whole[self.answer_from:].lstrip()
        fresh, self.sent = answer[self.sent:], len(answer)
        return fresh

    def finish(self) -> Turn:
        parsed = parse_react("".join(self.text))
        if parsed.action is None:
            return Turn(text=parsed.kept, answer=parsed.answer, thought=parsed.thought)
        call = ToolCall("", parsed.action, parsed.action_input)
        return Turn(text=parsed.kept, answer="", calls=(call,), thought=parsed.thought)


@dataclass(frozen=True, slots=True)
class ReasonAct:
    """Tools in the system prompt as text; no tool protocol, so the converter leaves the text alone."""

    build: RequestBuilder
    specs: tuple[ToolSpec, ...]

    def request(self, conversation: Sequence[Message]) -> BackendRequest:
        """The conversation under the reason-then-act system prompt, with no function tools."""
        return self.build([Message("system", react_prompt(self.specs)), *conversation], ())

    def reader(self) -> _ReactReader:
        """Reads one thought/action turn."""
        return _ReactReader()

    def follow_up(self, turn: Turn, runs: Sequence[ToolRun]) -> list[Message]:
        """The model's turn as it wrote it (up to its action input), then the observation."""
        observations = "\n".join(f"Observation: {run.observation()}" for run in runs)
        return [Message("assistant", turn.text), Message("user", observations)]
