"""What JSON types a property schema allows, read leniently (unions, nullable, aliases)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Non-standard names seen in real tool schemas (and in the sglang tests), mapped to JSON types.
_ALIASES = {
    "int": "integer",
    "int32": "integer",
    "int64": "integer",
    "uint": "integer",
    "uint32": "integer",
    "uint64": "integer",
    "long": "integer",
    "short": "integer",
    "float": "number",
    "double": "number",
    "bool": "boolean",
    "dict": "object",
    "list": "array",
    "str": "string",
    "text": "string",
}
_PY_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    dict: "object",
    list: "array",
    type(None): "null",
}


def as_list(value: Any) -> list[Any]:
    """A schema keyword that should be an array, or [] when a client sent something else."""
    return value if isinstance(value, list) else []


def allowed_types(schema: Any) -> frozenset[str]:
    """The JSON type names a schema allows; empty when it says nothing about types."""
    if not isinstance(schema, Mapping):
        return frozenset()
    found: set[str] = set()
    declared = schema.get("type")
    for name in declared if isinstance(declared, list) else [declared]:
        if isinstance(name, str):
            found.add(_ALIASES.get(name.lower(), name.lower()))
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in as_list(schema.get(key)):
            found |= allowed_types(sub)
    if schema.get("nullable") is True:
        found.add("null")
    if not found:
        found |= _implied_types(schema)
    return frozenset(found)


def _implied_types(schema: Mapping[str, Any]) -> set[str]:
    # Schemas without `type` still say something through enum/const/properties/items.
    values = list(as_list(schema.get("enum")))
    if "const" in schema:
        values.append(schema["const"])
    implied = {_PY_TYPES[type(v)] for v in values if type(v) in _PY_TYPES}
    if "properties" in schema:
        implied.add("object")
    if "items" in schema:
        implied.add("array")
    return implied


def value_has_type(value: Any, json_type: str) -> bool:
    """Whether a decoded JSON value is of the named JSON type (bool is not a number)."""
    if json_type == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if json_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "object": dict, "array": list}.get(json_type)
    if expected is not None:
        return isinstance(value, expected)
    if json_type == "null":
        return value is None
    return True
