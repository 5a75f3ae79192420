"""The tool protocol a backend writes into prompts: the converter's dialects, chosen per model."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.converters import dialect_for_model, render_tool_call, render_tool_instructions


@dataclass(frozen=True, slots=True)
class DialectToolProtocol:
    """Tool instructions and earlier calls in one markup dialect (which the converter reads back)."""

    dialect: str

    def instructions(self, tools: Sequence[Mapping[str, Any]], *, tool_choice: Any, parallel_tool_calls: bool) -> str:
        """The tool definitions and calling rules, honouring tool_choice."""
        return render_tool_instructions(
            tools, tool_choice=tool_choice, parallel_tool_calls=parallel_tool_calls, dialect=self.dialect
        )

    def render_call(self, name: str, arguments: str) -> str:
        """An earlier call, written in the dialect; never raises.

        A client's history is checked when it is parsed, but a model's own call (kept in the
        agent's history so the model sees its mistake) may carry arguments that are not a JSON
        object: those are shown as the string the model wrote.
        """
        try:
            return render_tool_call(name, arguments, self.dialect)
        except ValueError:
            return render_tool_call(name, json.dumps({"unparsed_arguments": arguments}, ensure_ascii=False), self.dialect)


def tool_protocol_for(model_id: str, overrides: Mapping[str, str], backend_default: str | None) -> DialectToolProtocol:
    """The dialect for this model: the operator's override, its family's, or its backend's default."""
    return DialectToolProtocol(dialect_for_model(model_id, overrides, default=backend_default))
