"""Typed events an executor yields while its CLI runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the assistant's answer, forwarded as soon as the CLI prints it."""

    text: str


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Token usage and cost as the CLI reported them (zeros when it reported none)."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    cost_usd: float | None = None
    premium_requests: float | None = None
    estimated: bool = False


CliEvent = TextDelta | UsageReport
