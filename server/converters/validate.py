"""Checks of call arguments against the tool's schema; problems are reported, never fatal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .schema_types import allowed_types, as_list, value_has_type


def check_arguments(
    arguments: Mapping[str, Any], schema: Mapping[str, Any] | None
) -> tuple[str, ...]:
    """Problems with the arguments: missing required properties, wrong primitive types, enums."""
    if not isinstance(schema, Mapping):
        return ()
    problems = [
        f"missing required property '{name}'"
        for name in as_list(schema.get("required"))
        if isinstance(name, str) and name not in arguments
    ]
    props = schema.get("properties")
    props = props if isinstance(props, Mapping) else {}
    for key, value in arguments.items():
        prop = props.get(key)
        if prop is None:
            if schema.get("additionalProperties") is False:
                problems.append(f"unexpected property '{key}'")
            continue
        problems.extend(_check_property(key, value, prop))
    return tuple(problems)


def _check_property(key: str, value: Any, prop: Any) -> list[str]:
    # The enum, when there is one, says more than the type it implies.
    enum = prop.get("enum") if isinstance(prop, Mapping) else None
    if isinstance(enum, list) and not any(_same(value, option) for option in enum):
        options = ", ".join(json.dumps(option, ensure_ascii=False) for option in enum)
        return [f"property '{key}' should be one of {options}"]
    types = allowed_types(prop)
    if types and not any(value_has_type(value, t) for t in types):
        return [f"property '{key}' should be {' or '.join(sorted(types))}"]
    return []


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python, but not in JSON.
    return isinstance(a, bool) == isinstance(b, bool) and a == b
