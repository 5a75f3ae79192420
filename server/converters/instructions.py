"""The tool section of the CLI's system prompt, and earlier calls as they appear in a transcript."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .registry import get_dialect
from .schema_types import as_list

_EXAMPLES: dict[str, Any] = {
    "string": "...",
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
}


_RULES = (
    (
        "These tools are not built-in functions: the only way to call one is to write the call "
        "as text in this format."
    ),
    "Use only the tools listed above, with their exact names; give every required argument.",
    (
        "Write calls as plain text exactly as shown: not inside a code block, not inside <think> "
        "tags, and not described in words."
    ),
)
_PARALLEL = {
    True: "You may call several tools in one answer: write the calls one after another.",
    False: "Call at most one tool per answer; make any further call in a later answer.",
}
_STOP = (
    "After your call(s), stop and write nothing more. The results come back to you in the next "
    "turn; then continue."
)


def render_tool_instructions(
    tools: Sequence[Mapping[str, Any]],
    *,
    tool_choice: object = "auto",
    parallel_tool_calls: bool = True,
    dialect: str,
) -> str:
    """Tool definitions and the calling protocol for `dialect`, honouring tool_choice."""
    spec = get_dialect(dialect)
    entries = [_entry(tool) for tool in tools]
    names = [name for name, _, _ in entries]
    forced = _forced_name(tool_choice, names)
    example = next(
        (e for e in entries if e[0] == forced), entries[0] if entries else ("tool_name", "", {})
    )
    rules = [spec.argument_rule, *_RULES, _PARALLEL[parallel_tool_calls], _STOP]
    rules.append(_choice_rule(tool_choice, forced))
    parts = [
        "# Tools",
        (
            "You can call these tools. Each is listed with its name, what it does, and the JSON "
            "Schema of its arguments."
        ),
        *(_describe(*entry) for entry in entries),
        "# How to call a tool",
        f"To call a tool, write the call in exactly this format (here calling `{example[0]}`):",
        spec.render_call(example[0], _example_arguments(example[2])),
        "Rules:\n" + "\n".join(f"- {rule}" for rule in rules),
    ]
    return "\n\n".join(parts)


def render_tool_call(name: str, arguments: str, dialect: str) -> str:
    """An earlier assistant call written in `dialect`, so the model sees its own format."""
    try:
        decoded = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        raise ValueError(f"arguments of the call to {name!r} are not JSON") from None
    if not isinstance(decoded, dict):
        # A malformed request value, like invalid JSON above: the caller maps ValueError to a 400.
        message = f"arguments of the call to {name!r} are not a JSON object"
        raise ValueError(message)  # noqa: TRY004
    return get_dialect(dialect).render_call(name, decoded)


def _entry(tool: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    function = tool.get("function")
    spec: Mapping[str, Any] = function if isinstance(function, Mapping) else tool
    parameters = spec.get("parameters")
    return (
        str(spec.get("name", "")),
        str(spec.get("description") or ""),
        parameters if isinstance(parameters, Mapping) else {},
    )


def _describe(name: str, description: str, parameters: Mapping[str, Any]) -> str:
    lines = [f"## {name}"]
    if description.strip():
        lines.append(description.strip())
    lines.append("Arguments (JSON Schema): " + json.dumps(parameters, ensure_ascii=False))
    return "\n".join(lines)


def _forced_name(tool_choice: object, names: list[str]) -> str | None:
    if tool_choice is None or tool_choice in ("auto", "none", "required"):
        return None
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else tool_choice.get("name")
        if isinstance(name, str) and name in names:
            return name
        raise ValueError(f"tool_choice names a tool that was not offered: {name!r}")
    raise ValueError(f"unsupported tool_choice {tool_choice!r}")


def _choice_rule(tool_choice: object, forced: str | None) -> str:
    if forced is not None:
        return f"In this answer you must call the tool `{forced}`, and no other tool."
    if tool_choice == "required":
        return "In this answer you must call at least one tool."
    if tool_choice == "none":
        return "Do not call any tool in this answer; answer in plain text."
    return "Call a tool when it helps; otherwise answer directly in plain text."


def _example_arguments(parameters: Mapping[str, Any]) -> dict[str, Any]:
    props = parameters.get("properties")
    if not isinstance(props, Mapping):
        return {}
    required = [k for k in as_list(parameters.get("required")) if isinstance(k, str) and k in props]
    keys = (required + [k for k in props if k not in required])[:3]
    return {key: _example_value(props[key]) for key in keys}


def _example_value(prop: Any) -> Any:
    if not isinstance(prop, Mapping):
        return "..."
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    kind = prop.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    return _EXAMPLES.get(kind, "...") if isinstance(kind, str) else "..."
