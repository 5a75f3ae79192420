"""Typed events a backend yields while it answers: a closed union of small dataclasses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer's text, forwarded as soon as the backend has it."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning (thinking) text, kept apart from the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a tool call the backend made natively (OpenAI `tool_calls` style).

    `index` tells calls apart; `id` and `name` come with a call's first fragment; the
    `arguments` fragments, joined, are the call's JSON arguments.
    """

    index: int
    arguments: str = ""
    id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Token usage and cost as the backend reported them (zeros and `estimated` when it reported none)."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    cost_usd: float | None = None
    premium_requests: float | None = None
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class RunInfo:
    """How the backend runs this request: its private temp dir, and fallbacks it took."""

    temp_dir: str | None = None
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finished:
    """Why the backend's answer ended, when it says more than "it stopped" (e.g. `length`)."""

    reason: str


BackendEvent = TextDelta | ReasoningDelta | ToolCallDelta | UsageReport | RunInfo | Finished
