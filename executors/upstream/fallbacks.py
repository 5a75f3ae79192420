"""The fallbacks for servers that refuse part of a request, and their memory per model.

When a server refuses a request (400, 422, 500 or 501) and its message points at something we
can write differently, the request is sent again in a more conservative `Shape`:
- `max_tokens_clamped`: max_tokens above the limit the message states is lowered to it;
- `history_as_text`: tool turns and empty contents refused: tool results become user text and
  earlier calls assistant text in the model's markup, empty contents are filled;
- `tools_as_functions`, then `tools_in_prompt`: `tools` refused: the legacy `functions` field,
  then no tools at all, with the tool protocol in the system prompt (the converter reads the
  markup back).
Each step is taken at most once per request and only when the message hints at it, so a plain
error costs one request. A shape that worked is remembered per model: the next request starts
there and does not pay for the failed tries again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from executors.request import BackendRequest
from executors.upstream.errors import UpstreamRejected
from executors.upstream.wire import Shape, asked_max_tokens, has_tool_history

MAX_TOKENS_CLAMPED = "max_tokens_clamped"
HISTORY_AS_TEXT = "history_as_text"
TOOLS_AS_FUNCTIONS = "tools_as_functions"
TOOLS_IN_PROMPT = "tools_in_prompt"

REFUSALS = frozenset({400, 422, 500, 501})
_MAX_TOKENS_HINT = re.compile(r"max_tokens|max_completion_tokens|max_new_tokens|context length", re.IGNORECASE)
_HISTORY_HINT = re.compile(r"role|alternate|tool_call_id|content|nonetype|template", re.IGNORECASE)
_TOOLS_HINT = re.compile(r"tool|function|jinja|template", re.IGNORECASE)
# Ways servers state the limit: vLLM "(5000 > 4096 - 30)", OpenAI "supports at most 4096
# completion tokens", "must be less than or equal to 4096", "maximum context length is 4096
# tokens and your request has 30 input tokens".
_DIFFERENCE = re.compile(r"\d+\s*>\s*(\d+)\s*-\s*(\d+)")
_AT_MOST = re.compile(r"(?:at most|less than or equal to|<=|maximum(?: value)? (?:is|of))\s*(\d+)", re.IGNORECASE)
_CONTEXT = re.compile(r"context length is (\d+) tokens.*?(?:request has|requested|prompt has) (\d+)", re.IGNORECASE | re.DOTALL)


def stated_limit(message: str) -> int | None:
    """The largest max_tokens the server's message says it accepts, if it says."""
    found = _DIFFERENCE.search(message)
    if found:
        return int(found[1]) - int(found[2])
    found = _CONTEXT.search(message)
    if found:
        return int(found[1]) - int(found[2])
    found = _AT_MOST.search(message)
    return int(found[1]) if found else None


def next_shape(error: UpstreamRejected, request: BackendRequest, shape: Shape) -> tuple[Shape, str] | None:
    """The shape to try after this refusal, and the fallback's name; None when none applies."""
    if error.status not in REFUSALS:
        return None
    message = error.message
    asked = asked_max_tokens(request.params)
    if asked is not None and _MAX_TOKENS_HINT.search(message):
        limit = stated_limit(message)
        effective = min(asked, shape.cap) if shape.cap else asked
        if limit is not None and 0 < limit < effective:
            return replace(shape, cap=limit), MAX_TOKENS_CLAMPED
    if shape.history == "native" and has_tool_history(request) and _HISTORY_HINT.search(message):
        return replace(shape, history="text"), HISTORY_AS_TEXT
    if request.tools and _TOOLS_HINT.search(message):
        if shape.tools == "native":
            return replace(shape, tools="functions"), TOOLS_AS_FUNCTIONS
        if shape.tools == "functions" and request.tool_protocol is not None:
            return replace(shape, tools="prompt"), TOOLS_IN_PROMPT
    return None


def in_effect(request: BackendRequest, shape: Shape) -> tuple[str, ...]:
    """The fallbacks that change this request (for the log, RunInfo and the response header)."""
    names: list[str] = []
    asked = asked_max_tokens(request.params)
    if asked is not None and shape.cap is not None and asked > shape.cap:
        names.append(MAX_TOKENS_CLAMPED)
    if shape.history == "text" and has_tool_history(request):
        names.append(HISTORY_AS_TEXT)
    if request.tools and shape.tools == "functions":
        names.append(TOOLS_AS_FUNCTIONS)
    elif request.tools and shape.tools == "prompt":
        names.append(TOOLS_IN_PROMPT)
    return tuple(names)


_TOOLS_ORDER = ("native", "functions", "prompt")


@dataclass(slots=True)
class FallbackMemory:
    """What each model needed last time; forgotten when the model list is rediscovered."""

    cap: int | None = None  # the operator's max-tokens clamp, where every model starts
    shapes: dict[str, Shape] = field(default_factory=dict)

    def shape_for(self, model: str) -> Shape:
        """Where a request for this model starts."""
        return self.shapes.get(model) or Shape(cap=self.cap)

    def remember(self, model: str, shape: Shape) -> None:
        """Keep what worked, merged with what another request learned meanwhile (never less cautious)."""
        old = self.shape_for(model)
        caps = [c for c in (old.cap, shape.cap) if c is not None]
        self.shapes[model] = Shape(
            tools=max(old.tools, shape.tools, key=_TOOLS_ORDER.index),
            history="text" if "text" in (old.history, shape.history) else "native",
            cap=min(caps) if caps else None,
        )

    def forget(self) -> None:
        """Start over (the server may have been restarted with other options)."""
        self.shapes.clear()
