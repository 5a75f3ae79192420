"""The agent loop both endpoints share: ask the model, run the tools it calls, repeat, answer.

Each turn is one backend run through the pipeline (`run_backend`); a dialogue decides how the
tools are offered and how calls and results are written back. The loop ends when a turn calls no
tool, or after the step limit (`max_steps`): calls beyond it are not run, the model reads that
they were not and why, and its next turn is the answer, whether or not it still calls tools.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass

import structlog

from executors import Backend, Message
from server.agent.dialogue import Dialogue
from server.agent.events import AgentDone, AgentEvent, AnswerText, Step, StepDone, ToolCalled
from server.agent.toolbox import Toolbox, ToolRun
from server.facts import RequestFacts
from server.pipeline.events import Completed, Usage
from server.pipeline.run import run_backend

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AgentRun:
    """Everything one agent request runs with."""

    backend: Backend
    dialogue: Dialogue
    toolbox: Toolbox
    max_steps: int


async def run_agent(run: AgentRun, conversation: Sequence[Message], facts: RequestFacts) -> AsyncGenerator[AgentEvent, None]:
    """Yield the loop's events as they happen; `AgentDone` comes last."""
    messages = list(conversation)
    steps: list[Step] = []
    usages: list[Usage] = []
    limited = False
    while True:
        reader = run.dialogue.reader()
        async with aclosing(run_backend(run.backend, run.dialogue.request(messages), facts)) as events:
            async for event in events:
                if isinstance(event, Completed):
                    usages.append(event.usage)
                text = reader.feed(event)
                if text:
                    yield AnswerText(text)
        turn = reader.finish()
        if not turn.calls or limited:
            yield _done(turn.answer, "max_steps" if limited else "stop", steps, usages, facts)
            return
        runs: list[ToolRun] = []
        for position, call in enumerate(turn.calls):
            if len(steps) >= run.max_steps:
                log.info("agent_step_limit", max_steps=run.max_steps, tools_not_run=[c.name for c in turn.calls[position:]])
                limited = True
                runs += [_not_run(c.name, c.arguments, run.max_steps) for c in turn.calls[position:]]
                break
            number = len(steps) + 1
            yield ToolCalled(number, call.name, call.arguments, turn.thought)
            tool_run = await run.toolbox.run(call.name, call.arguments, facts)
            step = Step(number, tool_run, turn.thought)
            steps.append(step)
            runs.append(tool_run)
            yield StepDone(step)
        messages += run.dialogue.follow_up(turn, runs)


def _not_run(tool: str, arguments: str, max_steps: int) -> ToolRun:
    """What the model reads for a call beyond the step limit: it was not run, and it should answer now."""
    reason = f"not run: the limit of {max_steps} tool runs for this request was reached; answer now with what you have"
    return ToolRun(tool, arguments, {"error": reason}, "refused", 0.0)


def _done(answer: str, reason: str, steps: Sequence[Step], usages: Sequence[Usage], facts: RequestFacts) -> AgentDone:
    usage = total_usage(usages)
    facts.usage = usage.as_openai()
    return AgentDone(answer, reason, tuple(steps), usage)


def total_usage(usages: Sequence[Usage]) -> Usage:
    """Every turn's usage added up (estimated when any turn's was)."""
    return functools.reduce(Usage.plus, usages, Usage(0, 0))

