"""A backend with scripted events: a real implementation of the protocol, for pipeline tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from executors import BackendEvent, BackendHealth, BackendRequest, Capabilities, ModelEntry


@dataclass
class ScriptedBackend:
    """Yields `script` for the first request and `later[i]` for the ones after it (the last repeats);
    records the requests it got; `closed` counts cleanups."""

    script: Sequence[BackendEvent | Exception]
    later: Sequence[Sequence[BackendEvent | Exception]] = ()
    name: str = "scripted"
    capabilities: Capabilities = field(default_factory=Capabilities)
    requests: list[BackendRequest] = field(default_factory=list)
    closed: int = 0

    async def stream(self, request: BackendRequest) -> AsyncIterator[BackendEvent]:
        turn = len(self.requests)
        self.requests.append(request)
        script = self.script if turn == 0 or not self.later else self.later[min(turn, len(self.later)) - 1]
        try:
            for item in script:
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
