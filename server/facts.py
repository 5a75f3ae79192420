"""What is known about one request, filled in along the way and read by the request log."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(slots=True)
class RequestFacts:
    """One request's facts: who asked for what, where it ran, what it cost and how it ended.

    The context middleware creates it; the route, the pipeline and the SSE transport fill it
    in; the request log (and the request_finished log line) read it. Nothing else carries
    request facts sideways.
    """

    request_id: str
    method: str
    path: str
    client: str | None = None
    api_key_id: str | None = None  # a fingerprint of the API key the request presented (never the key)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    t0: float = field(default_factory=time.monotonic)
    model: str | None = None
    backend: str | None = None
    stream: bool | None = None
    messages: int | None = None
    temp_dir: str | None = None
    fallbacks: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    first_output_s: float | None = None  # seconds from arrival to the first answer text or call
    status: int | None = None  # the status whose headers went out
    streamed: bool = False  # the answer went out as server-sent events
    stream_done: bool = False  # the stream's last event was written
    error: dict[str, Any] | None = None  # the OpenAI error object the client got, if any
    tool_runs: list[dict[str, Any]] = field(default_factory=list)  # the agent's tool runs, as logged

    def elapsed_s(self) -> float:
        """Seconds since the request arrived."""
        return time.monotonic() - self.t0

    def note_output(self) -> None:
        """Record the time of the first answer output (once)."""
        if self.first_output_s is None:
            self.first_output_s = self.elapsed_s()
