"""`response_format` (json_object, json_schema): the instruction for the prompt and the answer's check."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import jsonschema
import referencing.exceptions
from jsonschema.exceptions import best_match

from server.pipeline.gate import AnswerInvalid
from server.protocol.errors import InvalidRequest

_PARAM = "response_format"
# A whole answer wrapped in one Markdown code fence, as models like to write JSON.
_FENCE = re.compile(r"\A\s*```[ \t]*(?:json|JSON)?[ \t]*\n(?P<body>.*?)\n?[ \t]*```\s*\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class JsonFormat:
    """A JSON answer was asked for: any object (`schema` None) or a value valid against `schema`."""

    schema: Mapping[str, Any] | None = None
    name: str | None = None
    description: str | None = None
    strict: bool = False
    param: ClassVar[str] = _PARAM
    requires_call: ClassVar[bool] = False

    def admits(self, name: str) -> bool:
        """Any call may be made: an answer that calls tools has no content to check."""
        return True

    def instruction(self) -> str:
        """What the model is told, as a system message."""
        lines = ["# Response format"]
        if self.schema is None:
            lines.append("Answer with one JSON object and nothing else.")
        else:
            named = f' (named "{self.name}")' if self.name else ""
            lines.append(f"Answer with one JSON value that is valid against this JSON Schema{named}, and nothing else.")
            if self.description:
                lines.append(self.description)
            lines.append("Schema: " + json.dumps(self.schema, ensure_ascii=False))
            if self.strict:
                lines.append("Follow the schema exactly: every property it requires, and no others it does not allow.")
        lines.append("Write only the JSON: no text before or after it, no Markdown code fence, no comments.")
        return "\n".join(lines)

    def repair_prompt(self, problem: str) -> str:
        """Ask again, saying what was wrong with the answer above."""
        return (
            f"Your answer above cannot be used: {problem}. Answer again with only the JSON the response format "
            "asks for: no text before or after it, no code fence."
        )

    def check_text(self, answer: str) -> str:
        """The JSON text to send (a code fence around it removed); AnswerInvalid when it does not fit."""
        match = _FENCE.match(answer)
        text = match.group("body") if match else answer
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise AnswerInvalid(f"the answer is not JSON ({exc})") from None
        if self.schema is None:
            if not isinstance(value, dict):
                raise AnswerInvalid("the answer is JSON but not an object")
            return text.strip()
        validator = jsonschema.validators.validator_for(self.schema, default=jsonschema.Draft202012Validator)
        try:
            error = best_match(validator(self.schema).iter_errors(value))
        except referencing.exceptions.Unresolvable as exc:
            # Remote $refs are never fetched: the schema must be self-contained.
            raise InvalidRequest(f"response_format.json_schema.schema has a $ref that cannot be resolved: {exc}", param=_PARAM) from None
        if error is not None:
            where = "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            raise AnswerInvalid(f"the JSON does not match the schema at {where}: {error.message}")
        return text.strip()


def parse_response_format(value: Any) -> JsonFormat | None:
    """The requested JSON format, None for plain text; InvalidRequest when the parameter is malformed."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise InvalidRequest("'response_format' must be an object with a 'type'", param=_PARAM)
    kind = value["type"]
    if kind == "text":
        return None
    if kind == "json_object":
        return JsonFormat()
    if kind != "json_schema":
        raise InvalidRequest(
            f"response_format type {kind!r} is not supported; use 'text', 'json_object' or 'json_schema'", param=_PARAM
        )
    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        raise InvalidRequest("response_format.json_schema is required for type 'json_schema'", param=_PARAM)
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise InvalidRequest("response_format.json_schema.schema must be a JSON Schema object", param=_PARAM)
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InvalidRequest(f"response_format.json_schema.schema is not a valid JSON Schema: {exc.message}", param=_PARAM) from None
    name, description = spec.get("name"), spec.get("description")
    return JsonFormat(
        schema,
        name if isinstance(name, str) else None,
        description if isinstance(description, str) else None,
        spec.get("strict") is True,
    )
