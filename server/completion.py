"""One completion: a temp dir, a CLI run, and the converter, as one stream of output events."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from executors import Executor, LaunchSpec, TextDelta, UsageReport
from server.converters import CallArgs, CallEnd, CallStart, StreamingParser, TextOut
from server.prompt import RenderedPrompt
from server.slots import CliSlots
from tempdirs import RequestTempDir

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage for the OpenAI `usage` object (never negative)."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    cost_usd: float | None = None
    premium_requests: float | None = None
    estimated: bool = False

    def as_openai(self) -> dict[str, Any]:
        """The `usage` object, with our extras only when the CLI reported them."""
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


@dataclass(frozen=True, slots=True)
class Completed:
    """The last event: why the answer ended, and its usage."""

    finish_reason: str
    usage: Usage


OutputEvent = TextOut | CallStart | CallArgs | CallEnd | Completed


@dataclass(frozen=True, slots=True)
class CompletionHooks:
    """Callbacks for observers (the request log): the request's temp dir, the final usage."""

    on_workdir: Callable[[Path], None] | None = None
    on_completed: Callable[[Completed], None] | None = None


@dataclass(frozen=True, slots=True)
class CompletionJob:
    """Everything one CLI run needs."""

    cli_model: str
    prompt: RenderedPrompt
    tools: Sequence[Mapping[str, Any]] | None
    convert_tool_calls: bool


async def run_completion(
    job: CompletionJob,
    executor: Executor,
    slots: CliSlots,
    temp_base: Path,
    hooks: CompletionHooks = CompletionHooks(),
) -> AsyncGenerator[OutputEvent, None]:
    """Yield output events as the CLI prints; the CLI and temp dir are cleaned up on every path."""
    async with slots.slot(), RequestTempDir(temp_base) as workdir:
        if hooks.on_workdir is not None:
            hooks.on_workdir(workdir)
        running = await executor.start(LaunchSpec(job.cli_model, workdir, job.prompt.system_prompt))
        try:
            await running.send(job.prompt.prompt)
            parser = StreamingParser(job.tools, enabled=job.convert_tool_calls)
            report: UsageReport | None = None
            out_chars = 0
            calls = 0
            async for event in running.events():
                if isinstance(event, TextDelta):
                    out_chars += len(event.text)
                    for item in parser.feed(event.text):
                        calls += _note(item)
                        yield item
                else:
                    report = event
            for item in parser.finish():
                calls += _note(item)
                yield item
            completed = Completed("tool_calls" if calls else "stop", _usage(report, job.prompt, out_chars))
            if hooks.on_completed is not None:
                hooks.on_completed(completed)
            yield completed
        finally:
            await running.close()


def _note(item: OutputEvent) -> bool:
    """Log schema problems of a finished call (both paths); True for the start of a call."""
    if isinstance(item, CallEnd) and item.problems:
        log.warning("tool_call_arguments_invalid", index=item.index, problems=list(item.problems))
    return isinstance(item, CallStart)


def _usage(report: UsageReport | None, prompt: RenderedPrompt, out_chars: int) -> Usage:
    if report is not None and not report.estimated:
        return Usage(
            report.prompt_tokens, report.completion_tokens, report.cached_tokens, report.cost_usd, report.premium_requests
        )
    # The CLI reported no token counts: estimate (about 4 characters a token) rather than lie with -1.
    prompt_chars = len(prompt.prompt) + len(prompt.system_prompt)
    return Usage(
        max(1, prompt_chars // 4),
        (out_chars + 3) // 4,
        premium_requests=report.premium_requests if report else None,
        estimated=True,
    )
