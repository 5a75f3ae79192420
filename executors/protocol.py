"""The backend seam: what every backend offers the server, and how it is configured and built.

A backend receives a structured `BackendRequest` and yields `BackendEvent`s; how it runs (a
spawned CLI, a long-lived CLI server, an HTTP call) is its own business. Each kind of backend is
one package whose config reader is one line in `executors.table`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from executors.background import Background
from executors.events import BackendEvent
from executors.request import BackendRequest
from executors.slots import CliSlots


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One model a backend serves: its own id and who makes it."""

    id: str
    owned_by: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do itself, so the pipeline knows what to pass, emulate or refuse.

    `params` are the OpenAI request parameters it honours; `default_dialect` is the tool-call
    markup its models follow best when the operator named none; `images` says whether it takes
    image content parts (a request with images to one that does not is a 400).
    """

    params: frozenset[str] = frozenset()
    default_dialect: str | None = None
    images: bool = False


@dataclass(frozen=True, slots=True)
class BackendHealth:
    """A backend's state for `/health`: usable at all, credentials seen, and details to show."""

    available: bool
    authenticated: bool | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The backend's entry in the `/health` body."""
        return {"available": self.available, "authenticated": self.authenticated, **self.detail}


@dataclass(frozen=True, slots=True)
class BackendContext:
    """What the server shares with every backend it builds."""

    env: Mapping[str, str]  # the environment child processes inherit
    temp_base: Path  # where per-request temp dirs go
    slots: CliSlots  # the cap on concurrently running CLI processes
    request_timeout_s: float
    background: Background = field(default_factory=Background)  # clean-up after answers; drained at stop


class Backend(Protocol):
    """One configured backend, reachable by its `name` (the model-id prefix)."""

    @property
    def name(self) -> str:
        """The backend's name, e.g. `copilot` or an upstream's BACKEND_NAME."""

    @property
    def capabilities(self) -> Capabilities:
        """What it honours itself."""

    def stream(self, request: BackendRequest) -> AsyncIterator[BackendEvent]:
        """Answer the request as a stream of events; raise a BackendError when it fails."""

    async def list_models(self) -> list[ModelEntry]:
        """The models it serves now (raises BackendError when it cannot tell)."""

    async def health(self) -> BackendHealth:
        """Its state for `/health`."""

    def stats(self) -> dict[str, int]:
        """Plain counts for metrics: `processes_running` (answering a request), `processes_idle`
        (warm, waiting for one), `processes_warm` (long-lived or started ahead, alive),
        `requests_active` and `restarts`; a backend may add its own keys."""

    async def start(self) -> None:
        """Called once when the server starts (warm-up, pools, HTTP sessions)."""

    async def aclose(self) -> None:
        """Called once when the server stops: release processes, sessions and files."""


@runtime_checkable
class RawForwarding(Protocol):
    """A backend that can also relay OpenAI endpoints other than chat as they are.

    `endpoint` is the API path below `/v1` (`completions`, `embeddings`); `body` is the
    client's JSON with `model` already the backend's own id. Errors are BackendErrors, raised
    before anything is returned or yielded when the backend refuses the request.
    """

    async def forward(self, endpoint: str, body: Mapping[str, Any]) -> Any:
        """The endpoint's whole JSON answer."""

    def forward_stream(self, endpoint: str, body: Mapping[str, Any]) -> AsyncIterator[Any]:
        """The JSON of each server-sent event as it arrives (the closing `[DONE]` left out)."""


class BackendConfig(Protocol):
    """A backend's settings, read from the environment; it knows how to build its backend."""

    @property
    def name(self) -> str:
        """The backend's name."""

    @property
    def enabled_by_default(self) -> bool:
        """Whether it serves when SERVICE is not set."""

    def build(self, context: BackendContext) -> Backend:
        """The backend these settings describe."""


ConfigReader = Callable[[Mapping[str, str], Path | None], list[BackendConfig]]
"""Reads one kind's backends from the environment (and the project root, for bundled tools)."""
