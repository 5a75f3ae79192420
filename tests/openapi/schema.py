"""OpenAI's OpenAPI document, loaded once, and validation of one body against one of its schemas."""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.openapi.convert import Schema, relax, stream_event_types, to_json_schema

DOCUMENT = Path(__file__).with_name("openapi.json.gz")
_BASE = "urn:openai-openapi"


@dataclass(frozen=True, slots=True)
class Violation:
    """One place where a body departs from its schema."""

    where: str  # "POST /v1/chat/completions 200", plus the SSE frame when there is one
    schema: str
    path: str  # JSON path into the body, "$" for the whole body
    message: str
    value: str = ""  # the offending value as JSON, shortened

    def __str__(self) -> str:
        value = f" (value: {self.value})" if self.value else ""
        return f"{self.where}: {self.schema} {self.path}: {self.message}{value}"


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI document as published (loaded once)."""
    with gzip.open(DOCUMENT, "rb") as raw:
        loaded: dict[str, Any] = json.load(raw)
    return loaded


@functools.cache
def schemas() -> dict[str, Schema]:
    """Every component schema as JSON Schema 2020-12, relaxed and with the derived `X-` schemas."""
    return relax(to_json_schema(document()["components"]["schemas"]))


@functools.cache
def _registry() -> Registry[Any]:
    contents = {"components": {"schemas": schemas()}}
    registry: Registry[Any] = Registry().with_resource(_BASE, Resource.from_contents(contents, default_specification=DRAFT202012))
    return registry


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    if name not in schemas():
        raise KeyError(f"no schema named {name!r} in the OpenAPI document")
    return Draft202012Validator({"$ref": f"{_BASE}#/components/schemas/{name}"}, registry=_registry())


@functools.cache
def response_event_schemas() -> dict[str, str]:
    """Responses stream event `type` → the ResponseStreamEvent member that describes it."""
    return stream_event_types(schemas())


def validate(name: str, body: Any, where: str = "body") -> list[Violation]:
    """Check one decoded JSON value against the component schema `name`."""
    errors = sorted(_validator(name).iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    return [_violation(leaf, name, where) for error in errors for leaf in _leaves(error)]


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors worth reading: inside an `anyOf`, those of the one branch the value was meant for.

    With discriminators gone, a failed union reports every branch. Branches whose `type` tag (or
    JSON type) does not match are the wrong ones; when exactly one branch is left, its errors say
    what is wrong. Otherwise the union failure itself is reported.
    """
    if error.validator != "anyOf" or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    live = [subs for subs in branches.values() if not any(_wrong_branch(sub) for sub in subs)]
    if len(live) != 1:
        return [error]
    return [leaf for sub in live[0] for leaf in _leaves(sub)]


def _wrong_branch(sub: ValidationError) -> bool:
    here = list(sub.relative_path)
    return (here == [] and sub.validator == "type") or (here == ["type"] and sub.validator in ("enum", "const"))


def _violation(error: ValidationError, name: str, where: str) -> Violation:
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return Violation(where, name, path, _message(error), short(error.instance))


def _message(error: ValidationError) -> str:
    if error.validator == "type":
        return f"expected {_json(error.validator_value)}, got {_json_type(error.instance)}"
    if error.validator == "enum":
        return f"expected one of {_json(error.validator_value)}"
    if error.validator == "const":
        return f"expected {_json(error.validator_value)}"
    if error.validator == "anyOf":
        return "matches none of the allowed shapes"
    return str(error.message)


def _json_type(value: Any) -> str:
    names = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def short(value: Any, limit: int = 160) -> str:
    """The value as JSON, cut to `limit` characters."""
    text = _json(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
