"""One repair turn: an answer its rule rejected goes back to the model with what was wrong, once."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

import structlog

from executors import BackendRequest, Message
from server.facts import RequestFacts
from server.pipeline.events import Completed, OutputEvent, Usage
from server.pipeline.gate import AnswerRejected, AnswerRule
from server.protocol.errors import InvalidModelOutput

log = structlog.get_logger(__name__)
ATTEMPTS = 2  # the answer, and one repair turn

Attempt = Callable[[BackendRequest], AsyncGenerator[OutputEvent, None]]


async def with_repair(
    attempt: Attempt, request: BackendRequest, rule: AnswerRule, facts: RequestFacts
) -> AsyncGenerator[OutputEvent, None]:
    """The first answer that satisfies `rule`, usage summed over the tries; InvalidModelOutput after the last."""
    spent: Usage | None = None
    for turn in range(1, ATTEMPTS + 1):
        try:
            async with aclosing(attempt(request)) as events:
                async for event in events:
                    if isinstance(event, Completed) and spent is not None:
                        event = Completed(event.finish_reason, spent.plus(event.usage))
                    yield event
            return
        except AnswerRejected as rejected:
            spent = rejected.usage if spent is None else spent.plus(rejected.usage)
            facts.usage = spent.as_openai()
            log.info("answer_rejected", param=rule.param, attempt=turn, problem=rejected.problem)
            if turn == ATTEMPTS:
                raise InvalidModelOutput(
                    f"the model's answer did not satisfy '{rule.param}', also after a repair turn: {rejected.problem}",
                    param=rule.param,
                ) from None
            request = repair_request(request, rule, rejected)


def repair_request(request: BackendRequest, rule: AnswerRule, rejected: AnswerRejected) -> BackendRequest:
    """The conversation so far, the rejected answer, and a user turn saying what to fix."""
    said = Message("assistant", rejected.text or "(an empty answer)")
    ask = Message("user", rule.repair_prompt(rejected.problem))
    return dataclasses.replace(request, messages=(*request.messages, said, ask))
