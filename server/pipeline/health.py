"""The /health report: every enabled backend's own state, and an overall status."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from executors import Backend


async def health_report(backends: Mapping[str, Backend]) -> dict[str, Any]:
    """`ok` when every backend is usable and authenticated, `degraded` when some are, else `unavailable`."""
    names = list(backends)
    states = await asyncio.gather(*(backends[n].health() for n in names))
    usable = [s for s in states if s.available]
    if usable and len(usable) == len(states) and all(s.authenticated is not False for s in usable):
        status = "ok"
    else:
        status = "degraded" if usable else "unavailable"
    return {"status": status, "backends": {n: s.as_json() for n, s in zip(names, states, strict=True)}}
