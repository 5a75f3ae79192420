"""Tool arguments checked against the tool's JSON schema before the tool runs (via `jsonschema`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import SchemaError

MAX_PROBLEMS = 5


class ArgumentSchema:
    """A tool's argument schema, checked once; `problems(arguments)` lists what is wrong with a call."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        plain = dict(schema)
        cls = validators.validator_for(plain)
        cls.check_schema(plain)  # SchemaError for a schema no call could satisfy reliably
        self._validator = cls(plain)

    def problems(self, arguments: Any) -> list[str]:
        """Readable problems (at most a few), empty when the arguments are valid."""
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
        return [f"{_where(e.absolute_path)}: {e.message}" for e in errors[:MAX_PROBLEMS]]


def _where(path: Any) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return "arguments" + parts


def checked_schema(schema: Mapping[str, Any]) -> ArgumentSchema | None:
    """The schema ready for checks, or None when it is not a valid JSON schema."""
    try:
        return ArgumentSchema(schema)
    except SchemaError:
        return None
