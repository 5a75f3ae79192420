"""The output gate: holds the answer back until it is known to satisfy the request's rule.

A rule says which tool calls may reach the client, whether the answer must be a call, and how
to check an answer that is text. Text is held until an admitted call starts (then it and all
that follows stream through) or the answer ends (then the text is checked and sent whole).
Reasoning always streams. An answer that breaks the rule raises `AnswerRejected` before any of
it went out, so the caller can try again; the SSE transport keeps the stream alive meanwhile.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Protocol

from server.converters import CallArgs, CallEnd, CallStart, TextOut
from server.pipeline.events import Completed, OutputEvent, ReasoningOut, Usage


class AnswerInvalid(Exception):
    """The answer does not satisfy what the request asked for; the message says why."""


class AnswerRule(Protocol):
    """What a request asks of the answer's shape (`response_format`, a required tool call)."""

    @property
    def param(self) -> str:
        """The request parameter that asked for it (named in the client's error)."""

    @property
    def requires_call(self) -> bool:
        """The answer must contain an admitted tool call."""

    def admits(self, name: str) -> bool:
        """Whether a call to this tool may reach the client."""

    def check_text(self, text: str) -> str:
        """The content to send for an answer without calls; raise AnswerInvalid when it does not fit."""

    def repair_prompt(self, problem: str) -> str:
        """The user turn that asks the model to answer again, knowing what was wrong."""


class AnswerRejected(Exception):
    """An answer that broke its rule: what was wrong, the text the model wrote, the run's usage."""

    def __init__(self, problem: str, text: str, usage: Usage) -> None:
        super().__init__(problem)
        self.problem = problem
        self.text = text
        self.usage = usage


class _Held:
    """The answer's text not yet sent, and the renumbering of the calls that pass the gate."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.open = False  # an admitted call started: everything streams from now on
        self.index: dict[int, int] = {}  # converter index → index on the wire, for admitted calls
        self.refused: list[str] = []  # names of calls that were not admitted

    def start(self, event: CallStart) -> list[OutputEvent]:
        flushed: list[OutputEvent] = [] if self.open else [TextOut(t) for t in self.text if t]
        self.open = True
        self.text.clear()
        self.index[event.index] = len(self.index)
        return [*flushed, CallStart(self.index[event.index], event.id, event.name)]


async def gate(events: AsyncGenerator[OutputEvent, None], rule: AnswerRule) -> AsyncGenerator[OutputEvent, None]:
    """The events of an answer that satisfies `rule`; AnswerRejected (nothing but reasoning sent) otherwise."""
    held = _Held()
    async with aclosing(events):
        async for event in events:
            if isinstance(event, ReasoningOut):
                yield event
            elif isinstance(event, TextOut):
                if held.open:
                    yield event
                else:
                    held.text.append(event.text)
            elif isinstance(event, CallStart):
                if rule.admits(event.name):
                    for item in held.start(event):
                        yield item
                else:
                    held.refused.append(event.name)
            elif isinstance(event, CallArgs):
                if event.index in held.index:
                    yield CallArgs(held.index[event.index], event.fragment)
            elif isinstance(event, CallEnd):
                if event.index in held.index:
                    yield CallEnd(held.index[event.index], event.arguments, event.problems)
            elif isinstance(event, Completed):
                for item in _end(held, rule, event):
                    yield item


def _end(held: _Held, rule: AnswerRule, completed: Completed) -> list[OutputEvent]:
    """The rest of the answer once it ended, or AnswerRejected."""
    if held.open:
        return [completed]
    text = "".join(held.text)
    if rule.requires_call:
        raise AnswerRejected(_missing_call(held.refused), text, completed.usage)
    try:
        content = rule.check_text(text)
    except AnswerInvalid as exc:
        raise AnswerRejected(str(exc), text, completed.usage) from None
    return [TextOut(content), completed]


def _missing_call(refused: list[str]) -> str:
    if refused:
        return "the answer called " + ", ".join(f"`{n}`" for n in dict.fromkeys(refused)) + ", which is not the tool asked for"
    return "the answer is text, not a tool call"
