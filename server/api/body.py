"""Reading a JSON request body, or a clear 400."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from server.protocol.errors import InvalidRequest


async def read_json(request: web.Request) -> Any:
    """The parsed body; InvalidRequest when it is not JSON."""
    try:
        return await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the request body is not valid JSON", code="invalid_json") from None


def header_safe(text: str, limit: int = 1000) -> str:
    """Printable ASCII only: header values may quote model output, which may hold newlines or non-ASCII."""
    escaped = text.encode("ascii", "backslashreplace").decode()
    return "".join(c if c.isprintable() else " " for c in escaped)[:limit]
