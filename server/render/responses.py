"""Responses on the wire: the Response object, its SSE events, and the folded JSON answer.

`response_events` turns the pipeline's output events into Responses stream events ending with
a terminal one (`response.completed`, or `response.incomplete` when the answer hit a length
limit) that carries the whole Response. `ResponsesFormat` writes them as named SSE events with
increasing `sequence_number`s; it opens with `response.created` and `response.in_progress`,
keeps a silent stream alive with more `response.in_progress` events (Codex's idle timer ignores
SSE comments), and ends a failed stream with `error` then `response.failed`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from server.pipeline.events import Completed, OutputEvent, Usage
from server.protocol.errors import ErrorInfo
from server.render.responses_output import OutputItems, ResponseEvent

TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def response_usage(usage: Usage) -> dict[str, Any]:
    """The Responses `usage` object."""
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


def failure_code(info: ErrorInfo) -> str:
    """A `ResponseError` code for a failed response (the schema allows only OpenAI's codes).

    Codex retries a failed response up to five times unless the code says retrying is useless,
    so a request error is `invalid_prompt` (no retry) and busy or rate-limited is a retry.
    """
    if info.status == 429 or info.code == "server_busy":
        return "rate_limit_exceeded"
    if 400 <= info.status < 500:
        return "invalid_prompt"
    return "server_error"


@dataclass(frozen=True, slots=True)
class ResponseShell:
    """What every snapshot of one Response shares: its id, model and the request it echoes."""

    id: str
    model: str
    instructions: str | None = None
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: Any = "auto"
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    store: bool = True
    metadata: Mapping[str, Any] = field(default_factory=dict)
    echo: Mapping[str, Any] = field(default_factory=dict)  # temperature, top_p, text, reasoning, …
    created_at: int = field(default_factory=lambda: int(time.time()))

    def body(
        self,
        status: str,
        output: Sequence[Mapping[str, Any]] = (),
        usage: Usage | None = None,
        *,
        error: Mapping[str, Any] | None = None,
        incomplete_reason: str | None = None,
    ) -> dict[str, Any]:
        """The Response object in one state."""
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "completed_at": int(time.time()) if status == "completed" else None,
            "error": dict(error) if error else None,
            "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
            "instructions": self.instructions,
            "model": self.model,
            "output": list(output),
            "parallel_tool_calls": self.parallel_tool_calls,
            "previous_response_id": self.previous_response_id,
            "store": self.store,
            "tool_choice": self.tool_choice,
            "tools": list(self.tools),
            "metadata": dict(self.metadata),
            "usage": response_usage(usage) if usage is not None else None,
            "temperature": self.echo.get("temperature", 1.0),
            "top_p": self.echo.get("top_p", 1.0),
            **{k: v for k, v in self.echo.items() if k not in ("temperature", "top_p")},
        }


async def response_events(
    events: AsyncGenerator[OutputEvent, None], items: OutputItems, shell: ResponseShell
) -> AsyncGenerator[ResponseEvent, None]:
    """The stream events of one answer; the last one is terminal and carries the whole Response."""
    async with aclosing(events):  # closing this generator closes the backend run now, not at GC
        async for event in events:
            if not isinstance(event, Completed):
                for out in items.feed(event):
                    yield out
                continue
            reason = _INCOMPLETE.get(event.finish_reason)
            for out in items.finish("incomplete" if reason else "completed"):
                yield out
            if reason:
                body = shell.body("incomplete", items.done_items, event.usage, incomplete_reason=reason)
                yield {"type": "response.incomplete", "response": body}
            else:
                yield {"type": "response.completed", "response": shell.body("completed", items.done_items, event.usage)}
            return


def fold_response(events: Sequence[ResponseEvent]) -> dict[str, Any]:
    """The Response object of a whole answer (its terminal event's)."""
    assert events and events[-1]["type"] in TERMINAL, "an answer always ends with a terminal event"
    body: dict[str, Any] = events[-1]["response"]
    return body


def sse_event(event: Mapping[str, Any]) -> bytes:
    """One named SSE event with compact JSON."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


@dataclass(slots=True)
class ResponsesFormat:
    """Numbers and writes one Response's stream events; one per stream."""

    shell: ResponseShell
    sequence: int = 0
    done: list[dict[str, Any]] = field(default_factory=list)  # items whose output_item.done went out

    def _event(self, event: Mapping[str, Any]) -> bytes:
        numbered = {"type": event["type"], "sequence_number": self.sequence, **{k: v for k, v in event.items() if k != "type"}}
        self.sequence += 1
        return sse_event(numbered)

    def opening(self) -> bytes:
        """`response.created`, then `response.in_progress`."""
        snapshot = self.shell.body("in_progress")
        return self._event({"type": "response.created", "response": snapshot}) + self._event(
            {"type": "response.in_progress", "response": snapshot}
        )

    def frames(self, event: ResponseEvent) -> tuple[bytes, bool]:
        """The event, numbered; a terminal event is the last."""
        if event["type"] == "response.output_item.done":
            self.done.append(event["item"])
        return self._event(event), event["type"] in TERMINAL

    def failure(self, info: ErrorInfo) -> bytes:
        """An `error` event, then `response.failed` with the items that were finished."""
        error = {"type": "error", "code": info.code, "message": info.message, "param": info.param}
        failed = self.shell.body("failed", self.done, error={"code": failure_code(info), "message": info.message})
        return self._event(error) + self._event({"type": "response.failed", "response": failed})

    def keepalive(self) -> bytes:
        """Another `response.in_progress`: clients that time out on silence count events, not comments."""
        return self._event({"type": "response.in_progress", "response": self.shell.body("in_progress")})
