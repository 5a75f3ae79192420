"""A backend with scripted events: a real implementation of the protocol, for pipeline tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from executors import BackendEvent, BackendHealth, BackendRequest, Capabilities, ModelEntry


@dataclass
class ScriptedBackend:
    """Yields `script` for every request and records the requests it got; `closed` counts cleanups."""

    script: Sequence[BackendEvent | Exception]
    name: str = "scripted"
    capabilities: Capabilities = field(default_factory=Capabilities)
    requests: list[BackendRequest] = field(default_factory=list)
    closed: int = 0

    async def stream(self, request: BackendRequest) -> AsyncIterator[BackendEvent]:
        self.requests.append(request)
        try:
            for item in self.script:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.closed += 1

    async def list_models(self) -> list[ModelEntry]:
        return [ModelEntry("m", "tests")]

    async def health(self) -> BackendHealth:
        return BackendHealth(available=True)

    def stats(self) -> dict[str, int]:
        return {"requests_active": len(self.requests) - self.closed}

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
