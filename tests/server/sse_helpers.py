"""Read an SSE response the way a strict client does."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse


async def read_events(response: ClientResponse) -> list[Any]:
    """Every `data:` payload (JSON decoded, or the raw string for [DONE]) in order."""
    raw = (await response.read()).decode()
    assert raw.endswith("\n\n"), "the last event must be terminated by a blank line"
    events: list[Any] = []
    for block in raw.split("\n\n"):
        if not block or block.startswith(":"):
            continue
        assert block.startswith("data: "), block
        data = block[len("data: "):]
        events.append(data if data == "[DONE]" else json.loads(data))
    return events
