"""A relayed stream on the wire: the backend's events as it received them, with `model` in the client's terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.protocol.errors import ErrorInfo
from server.render.chat import DONE_FRAME, KEEPALIVE_COMMENT, sse_frame


@dataclass(frozen=True, slots=True)
class Relayed:
    """One event's JSON as the backend received it."""

    data: Any


@dataclass(frozen=True, slots=True)
class RelayEnd:
    """The relayed stream is complete."""


RelayEvent = Relayed | RelayEnd


def with_model(data: Any, model: str) -> Any:
    """The JSON with its `model` field (when it has one) set to the id the client used."""
    if isinstance(data, dict) and "model" in data:
        return {**data, "model": model}
    return data


@dataclass(frozen=True, slots=True)
class RelayFormat:
    """Writes each relayed event as one `data:` frame and ends with `[DONE]`."""

    model: str

    def opening(self) -> bytes:
        """Nothing: the first relayed event is the stream's first frame."""
        return b""

    def frames(self, event: RelayEvent) -> tuple[bytes, bool]:
        """The event's frame, or `[DONE]` at the end."""
        if isinstance(event, RelayEnd):
            return DONE_FRAME, True
        return sse_frame(with_model(event.data, self.model)), False

    def failure(self, info: ErrorInfo) -> bytes:
        """An in-stream error event, then `[DONE]`."""
        return sse_frame(info.body()) + DONE_FRAME

    def keepalive(self) -> bytes:
        """An SSE comment."""
        return KEEPALIVE_COMMENT
