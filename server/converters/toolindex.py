"""The offered tools, indexed by name: which names are known and what their schemas say."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .schema_types import as_list

Schema = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolIndex:
    """Parameter schemas by tool name; `given` is False when no tools were offered."""

    schemas: Mapping[str, Schema] = field(default_factory=dict)
    given: bool = False

    @classmethod
    def from_tools(cls, tools: Sequence[Mapping[str, Any]] | None) -> ToolIndex:
        """Index OpenAI chat tools (nested `function`) or flat Responses-style tools."""
        if not tools:
            return cls()
        schemas: dict[str, Schema] = {}
        for tool in tools:
            function = tool.get("function")
            spec: Mapping[str, Any] = function if isinstance(function, Mapping) else tool
            name = spec.get("name")
            if isinstance(name, str) and name:
                params = spec.get("parameters")
                schemas[name] = params if isinstance(params, Mapping) else {}
        return cls(schemas, True)

    def known(self, name: str) -> bool:
        """Whether a call to `name` may become a tool call (any name when no tools were given)."""
        return not self.given or name in self.schemas

    def parameters(self, name: str) -> Schema | None:
        """The parameters schema of a known tool."""
        return self.schemas.get(name)

    def infer_name(self, arguments: Mapping[str, Any]) -> str | None:
        """The only tool whose schema fits these argument keys, if exactly one does."""
        keys = set(arguments)
        fits = [
            name
            for name, schema in self.schemas.items()
            if {k for k in as_list(schema.get("required")) if isinstance(k, str)} <= keys <= set(_mapping(schema.get("properties")))
        ]
        return fits[0] if len(fits) == 1 else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
