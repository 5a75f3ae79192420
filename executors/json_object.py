"""One JSON object from the bytes of one CLI line or frame, decoded on the hot path."""

from __future__ import annotations

import json
from typing import Any

_raw_decode = json.JSONDecoder().raw_decode


def json_object(data: bytes) -> dict[str, Any] | None:
    """The JSON object `data` holds (surrounding whitespace allowed); None for anything else.

    Called once per answer token: it skips what `json.loads` adds (encoding sniffing, two regex
    passes for whitespace); the CLIs write UTF-8.
    """
    try:
        text = data.decode()
        value, end = _raw_decode(text, len(text) - len(text.lstrip()))
    except ValueError:  # UnicodeDecodeError included
        return None
    if end != len(text) and not text[end:].isspace():
        return None
    return value if isinstance(value, dict) else None
