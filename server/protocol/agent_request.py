"""Parse an agent request body (`/api/chat`, `/api/agent_chat`) into a frozen request, or a clear 400."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from executors import Message
from server.protocol.errors import InvalidRequest
from server.protocol.messages import parse_messages

_FIELDS = frozenset({"message", "model", "history", "stream", "max_steps"})


@dataclass(frozen=True, slots=True)
class AgentRequest:
    """`{"message", "model"?, "history"?, "stream"?, "max_steps"?}`, validated."""

    message: str
    model: str | None
    history: tuple[Message, ...]
    stream: bool
    max_steps: int | None
    unknown_fields: tuple[str, ...]

    @property
    def conversation(self) -> tuple[Message, ...]:
        """The history, then the new user message."""
        return (*self.history, Message("user", self.message))


def parse_agent_request(body: Any, step_limit: int) -> AgentRequest:
    """Validate the body; `max_steps` may lower the operator's AGENT_MAX_STEPS, not raise it."""
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", code="invalid_body")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise InvalidRequest("'message' is required and must be a non-empty string", code="missing_message", param="message")
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise InvalidRequest("'model' must be a non-empty string", code="invalid_model", param="model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean", param="stream")
    max_steps = body.get("max_steps")
    if max_steps is not None and (not isinstance(max_steps, int) or isinstance(max_steps, bool) or not 1 <= max_steps <= step_limit):
        raise InvalidRequest(f"'max_steps' must be an integer from 1 to {step_limit} (AGENT_MAX_STEPS)", param="max_steps")
    return AgentRequest(
        message=message,
        model=model.strip() if isinstance(model, str) else None,
        history=_history(body.get("history")),
        stream=stream,
        max_steps=max_steps,
        unknown_fields=tuple(sorted(k for k in body if k not in _FIELDS)),
    )


def _history(raw: Any) -> tuple[Message, ...]:
    """Earlier turns as chat-completions messages; errors name `history[i]`."""
    if raw is None or raw == []:
        return ()
    if not isinstance(raw, list):
        raise InvalidRequest("'history' must be an array of chat messages", param="history")
    return parse_messages(raw, "history")
