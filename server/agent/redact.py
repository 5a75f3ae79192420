"""What of a tool's arguments may be logged: no credentials ever, bodies only when body logging is on."""

from __future__ import annotations

from typing import Any

SECRET_NAMES = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api_key", "password", "token"})
BODY_NAMES = frozenset({"body", "content", "data"})


def loggable_arguments(arguments: Any, *, bodies: bool) -> Any:
    """The arguments with credential values redacted and, unless `bodies`, body values summarised."""
    if isinstance(arguments, dict):
        return {k: _value(str(k), v, bodies) for k, v in arguments.items()}
    if isinstance(arguments, list):
        return [loggable_arguments(v, bodies=bodies) for v in arguments]
    if isinstance(arguments, str) and not bodies and len(arguments) > 200:
        return f"[{len(arguments)} characters not logged]"  # unparsed text the model sent
    return arguments


def _value(key: str, value: Any, bodies: bool) -> Any:
    name = key.lower()
    if name in SECRET_NAMES:
        return "[redacted]"
    if name in BODY_NAMES and not bodies:
        return f"[{len(value) if isinstance(value, str) else len(str(value))} characters not logged]"
    return loggable_arguments(value, bodies=bodies)
