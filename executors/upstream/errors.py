"""What can go wrong talking to a model server, and its error bodies read whatever shape they take."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from executors.errors import BackendError

MESSAGE_LIMIT = 2000  # an upstream may put a whole traceback in its message


class UpstreamUnavailable(BackendError):
    """The model server could not be reached (connection refused, no such host)."""

    status = 503
    code_suffix = "unavailable"


class UpstreamTimeout(BackendError):
    """The model server did not connect or answer within BACKEND_TIMEOUT."""

    status = 504
    code_suffix = "timeout"


class UpstreamBadResponse(BackendError):
    """The model server answered something that is not OpenAI's format (bad JSON, broken stream)."""

    status = 502
    code_suffix = "bad_response"


class UpstreamStreamEnded(UpstreamBadResponse):
    """The stream's body ended before `data: [DONE]` (harmless once the answer said it finished)."""


class UpstreamRejected(BackendError):
    """The model server answered with an error status; its status, message and code go to the client."""

    code_suffix = "error"
    retryable = False

    def __init__(self, backend: str, status: int, found: UpstreamErrorBody) -> None:
        super().__init__(backend, found.message)
        self.status = status
        self.error_code = found.code
        self.error_param = found.param
        self.retryable = status in (408, 429) or status >= 500


@dataclass(frozen=True, slots=True)
class UpstreamErrorBody:
    """The message, code and param an upstream's error body holds."""

    message: str
    code: str | None = None
    param: str | None = None


def read_error_body(raw: bytes, status: int) -> UpstreamErrorBody:
    """OpenAI's `{"error": {...}}`, a bare-string `error`, FastAPI's `detail`, `message`, or plain text."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        found = _from_json(body)
        if found is not None:
            return found
    return UpstreamErrorBody(_clip(text) if text and body is None else f"the upstream answered HTTP {status}")


def _from_json(body: dict[str, Any]) -> UpstreamErrorBody | None:
    error = body.get("error")
    if isinstance(error, dict) and error.get("message"):
        code = error.get("code")
        param = error.get("param")
        return UpstreamErrorBody(
            _clip(str(error["message"])),
            code if isinstance(code, str) and code else None,  # vLLM and llama.cpp put the status here
            param if isinstance(param, str) and param else None,
        )
    if isinstance(error, str) and error:
        return UpstreamErrorBody(_clip(error))
    detail = body.get("detail")
    if isinstance(detail, str) and detail:
        return UpstreamErrorBody(_clip(detail))
    if isinstance(detail, list) and detail:
        return _from_validation(detail)
    message = body.get("message")
    if isinstance(message, str) and message:
        return UpstreamErrorBody(_clip(message))
    return None


def _from_validation(detail: list[Any]) -> UpstreamErrorBody:
    """FastAPI/pydantic 422 items: `body.tools: Extra inputs are not permitted`, one per item."""
    lines = []
    for item in detail:
        if not isinstance(item, dict):
            lines.append(str(item))
            continue
        where = ".".join(str(part) for part in item.get("loc") or ())
        lines.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
    locs = [item.get("loc") for item in detail if isinstance(item, dict)]
    first = locs[0] if locs and isinstance(locs[0], list | tuple) else ()
    param = str(first[1]) if len(first) > 1 and first[0] == "body" else None
    return UpstreamErrorBody(_clip("; ".join(lines)), None, param)


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + "…"
