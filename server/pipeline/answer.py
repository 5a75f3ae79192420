"""The one entry point from a prepared request to an answer, for every API and every backend.

Stages, each its own module:
1. `protocol.params`: the parameter table: passed to the backend, emulated, reported as
   ignored, or refused with a 400 (raised here, before anything runs).
2. `json_format`: a `response_format` the backend does not honour becomes a system instruction.
3. `run`: the backend run, its text through the tool-call converter.
4. `stop`: the answer cut at the first stop sequence, the run ended there.
5. `gate`: with a rule (`response_format`, a required or named tool call) the answer is held
   until it is known to satisfy it.
6. `repair`: an answer the gate rejected goes back to the model once, then a 502.

Parameters use chat-completions names (`response_format`, `stop`, `n`, …); other APIs map
theirs to these before calling `answer`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from executors import BackendRequest, Message
from server.facts import RequestFacts
from server.pipeline.events import Completed, OutputEvent
from server.pipeline.gate import AnswerRule, gate
from server.pipeline.json_format import JsonFormat, parse_response_format
from server.pipeline.prepare import Target
from server.pipeline.repair import with_repair
from server.pipeline.run import estimated_usage, run_backend
from server.pipeline.stop import apply_stop, parse_stop
from server.pipeline.tool_requirement import tool_requirement
from server.protocol.errors import InvalidRequest
from server.protocol.params import plan_params
from server.settings import Settings

_SYSTEM_ROLES = ("system", "developer")


@dataclass(frozen=True, slots=True)
class Answer:
    """A planned answer: the parameters reported as ignored, and its output events (run when read)."""

    ignored: tuple[str, ...]
    events: AsyncGenerator[OutputEvent, None]


def answer(
    target: Target, request: BackendRequest, params: Mapping[str, Any], facts: RequestFacts, settings: Settings
) -> Answer:
    """Plan the answer to `request` with the client's `params`; raise InvalidRequest for what is refused."""
    plan = plan_params(params, target.backend.capabilities)
    stops = parse_stop(plan.emulated["stop"]) if "stop" in plan.emulated else ()
    json_format = _json_format(plan.emulated, plan.passed)
    request = dataclasses.replace(request, params=dict(plan.passed))
    if json_format is not None and "response_format" in plan.emulated:
        request = dataclasses.replace(request, messages=with_instruction(request.messages, json_format.instruction()))
    convert = settings.enable_tool_call_conversion
    # Without conversion, calls stay text: a required call could never be seen.
    rule: AnswerRule | None = (tool_requirement(request.tool_choice, request.uses_tools) if convert else None) or json_format

    def attempt(job: BackendRequest) -> AsyncGenerator[OutputEvent, None]:
        events = run_backend(target.backend, job, facts, convert_tool_calls=convert)
        if stops:
            events = apply_stop(events, stops, lambda chars: estimated_usage(job, chars))
        return gate(events, rule) if rule is not None else events

    if rule is None and not stops:  # one run, whose own end notes its usage: no stage in between
        return Answer(plan.ignored, run_backend(target.backend, request, facts, convert_tool_calls=convert))
    events = with_repair(attempt, request, rule, facts) if rule is not None else attempt(request)
    return Answer(plan.ignored, _noting_usage(events, facts))


def _json_format(emulated: Mapping[str, Any], passed: Mapping[str, Any]) -> JsonFormat | None:
    if "response_format" in emulated:
        return parse_response_format(emulated["response_format"])
    if "response_format" not in passed:
        return None
    # A backend that honours response_format gets it as sent; its answer is checked all the same
    # (JSON modes of OpenAI-compatible servers vary), unless the format is one only it knows.
    try:
        return parse_response_format(passed["response_format"])
    except InvalidRequest:
        return None


def with_instruction(messages: tuple[Message, ...], instruction: str) -> tuple[Message, ...]:
    """The instruction added to the leading system message (or as one): some chat templates allow only one, first."""
    leading = 0
    while leading < len(messages) and messages[leading].role in _SYSTEM_ROLES:
        leading += 1
    if leading == 0:
        return (Message("system", instruction), *messages)
    last = messages[leading - 1]
    merged = dataclasses.replace(last, text=f"{last.text}\n\n{instruction}" if last.text.strip() else instruction)
    return (*messages[: leading - 1], merged, *messages[leading:])


async def _noting_usage(
    events: AsyncGenerator[OutputEvent, None], facts: RequestFacts
) -> AsyncGenerator[OutputEvent, None]:
    """The events as they are; the answer's final usage (all tries, estimated when cut short) into the facts."""
    async with aclosing(events):
        async for event in events:
            if isinstance(event, Completed):
                facts.usage = event.usage.as_openai()
            yield event
