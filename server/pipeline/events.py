"""The output events every renderer reads: answer text, reasoning, tool calls, and the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.converters import CallArgs, CallEnd, CallStart, TextOut


@dataclass(frozen=True, slots=True)
class ReasoningOut:
    """Reasoning (thinking) text, kept out of the answer's content."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage for the OpenAI `usage` object (never negative)."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    cost_usd: float | None = None
    premium_requests: float | None = None
    estimated: bool = False

    def plus(self, other: Usage) -> Usage:
        """The usage of two runs together (a repaired answer costs both)."""
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
            _sum(self.cost_usd, other.cost_usd),
            _sum(self.premium_requests, other.premium_requests),
            self.estimated or other.estimated,
        )

    def as_openai(self) -> dict[str, Any]:
        """The chat-completions `usage` object, with our extras only when the backend reported them."""
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }
        if self.cost_usd is not None:
            usage["cost_usd"] = self.cost_usd
        if self.premium_requests is not None:
            usage["premium_requests"] = self.premium_requests
        return usage


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


@dataclass(frozen=True, slots=True)
class Completed:
    """The last event: why the answer ended, and its usage."""

    finish_reason: str
    usage: Usage


OutputEvent = TextOut | ReasoningOut | CallStart | CallArgs | CallEnd | Completed
