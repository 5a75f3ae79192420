"""time_now: the current date and time in an IANA time zone."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.agent.tooltypes import ToolFailed, ToolSpec

SPEC = ToolSpec(
    name="time_now",
    description="The current date and time in a time zone. Use it whenever the answer depends on the current time or date.",
    parameters={
        "type": "object",
        "properties": {
            "timezone": {"type": "string", "description": "IANA time zone name, e.g. Asia/Seoul or Europe/Paris (default UTC)"},
        },
        "additionalProperties": False,
    },
)


class TimeNow:
    """Reads the clock (injectable for tests) and renders it in the asked zone."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock

    @property
    def spec(self) -> ToolSpec:
        """The tool's name, description and schema."""
        return SPEC

    async def run(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """`{"timezone", "iso", "date", "time", "weekday", "utc_offset", "abbreviation", "unix"}`."""
        name = str(arguments.get("timezone") or "UTC").strip()
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ToolFailed(f"unknown time zone {name!r}; use an IANA name such as Asia/Seoul") from None
        now = self._clock().astimezone(zone)
        offset = now.strftime("%z")
        return {
            "timezone": name,
            "iso": now.isoformat(timespec="seconds"),
            "date": now.date().isoformat(),
            "time": now.strftime("%H:%M:%S"),
            "weekday": now.strftime("%A"),
            "utc_offset": f"{offset[:3]}:{offset[3:]}",
            "abbreviation": now.tzname(),
            "unix": int(now.timestamp()),
        }
