"""Validate what the bridge sends against OpenAI's published OpenAPI document.

`validate(schema_name, body)` checks one decoded body against one component schema;
`check_http(method, path, status, content_type, body)` knows which schema a route answers with,
for JSON bodies and for SSE streams. Both return a list of `Violation`s (empty when all is well).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tests.openapi import sse
from tests.openapi.schema import Violation, document, schemas, short, validate

__all__ = ["Route", "Violation", "check_http", "describe", "document", "routes", "schemas", "validate"]

@dataclass(frozen=True, slots=True)
class Route:
    """What one route answers with on success: a JSON schema, and an SSE checker for streams."""

    method: str
    pattern: re.Pattern[str]
    schema: str
    stream: sse.StreamCheck | None = None


def routes() -> list[Route]:
    """The OpenAI routes the bridge serves (or will); paths without the optional `/v1` prefix."""
    def route(method: str, path: str, schema: str, stream: sse.StreamCheck | None = None) -> Route:
        return Route(method, re.compile(path), schema, stream)

    return [
        route("POST", "/chat/completions", "CreateChatCompletionResponse", sse.chat_stream),
        route("POST", "/completions", "CreateCompletionResponse", sse.completions_stream),
        route("POST", "/embeddings", "CreateEmbeddingResponse"),
        route("GET", "/models", "ListModelsResponse"),
        route("GET", "/models/.+", "Model"),  # model ids contain slashes: copilot/gpt-5.4
        route("POST", "/responses", "Response", sse.responses_stream),
        route("GET", "/responses/[^/]+", "Response"),
        route("DELETE", "/responses/[^/]+", "X-ResponseDeleted"),
        route("POST", "/responses/[^/]+/cancel", "Response"),
        route("GET", "/responses/[^/]+/input_items", "ResponseItemList"),
    ]


def check_http(
    method: str, path: str, status: int, content_type: str, body: bytes, *, complete: bool = True
) -> list[Violation]:
    """Check one HTTP answer of the bridge; routes it does not know (`/health`, `/api/…`) pass.

    `complete` is False when the client stopped reading early: the frames it read are checked,
    the end of the stream is not.
    """
    bare = path.split("?", 1)[0]
    bare = bare[3:] if bare.startswith("/v1/") else bare
    known = [r for r in routes() if r.pattern.fullmatch(bare)]
    where = f"{method} {path} {status}"
    if not known or method == "HEAD" or status < 200 or 200 < status < 400:
        return []  # not ours to judge: an unknown route, no body, or a redirect / no-content answer
    mime = content_type.split(";", 1)[0].strip().lower()
    if status >= 400:
        return _json_body(where, "ErrorResponse", mime, body, complete)
    matching = [r for r in known if r.method == method]
    if not matching:
        return []  # a 200 to another method (an OPTIONS preflight) has no OpenAI shape
    route = matching[0]
    if mime == "text/event-stream" and route.stream is not None:
        frames, problems = sse.parse(_text(body), complete)
        found = [Violation(where, "SSE", "$", problem) for problem in problems]
        return found + route.stream(frames, complete, where)
    return _json_body(where, route.schema, mime, body, complete)


def _json_body(where: str, schema: str, mime: str, body: bytes, complete: bool) -> list[Violation]:
    if not complete:
        return []
    if mime != "application/json":
        return [Violation(where, schema, "$", f"expected an application/json body, got {mime or 'no content type'!r}", short(_text(body)))]
    try:
        decoded = json.loads(body)
    except ValueError as exc:
        return [Violation(where, schema, "$", f"not JSON: {exc}", short(_text(body)))]
    return validate(schema, decoded, where)


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def describe(violations: Iterable[Violation]) -> str:
    """One line per violation, for an assertion message."""
    return "\n".join(f"  - {v}" for v in violations)
