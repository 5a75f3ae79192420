"""OpenAI's OpenAPI schemas → JSON Schema 2020-12, with the relaxations the wire needs.

The document says OpenAPI 3.1 (whose schemas are 2020-12), but about a hundred nodes still use
3.0 idioms that a 2020-12 validator would silently ignore or misread. `to_json_schema` rewrites
them; `relax` then applies the few deliberate departures from the document (see README.md).
"""

from __future__ import annotations

import copy
from typing import Any

Schema = dict[str, Any]

# Keywords whose value is one schema, a list of schemas, or a name → schema map.
_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "$defs", "dependentSchemas")
# Documentation only: dropped so the converted schemas stay small and errors stay readable.
_DROP = ("description", "example", "examples", "discriminator", "title", "$recursiveAnchor", "deprecated")


def to_json_schema(schemas: dict[str, Schema]) -> dict[str, Schema]:
    """Every component schema converted (the input is not modified)."""
    return {name: _node(schema, f"#/components/schemas/{name}") for name, schema in schemas.items()}


def _node(schema: Any, home: str) -> Any:
    """One schema node; `home` is the component that `$recursiveRef: "#"` points back to."""
    if not isinstance(schema, dict):
        return schema  # `true`/`false` schemas
    out: Schema = {}
    nullable = False
    for key, value in schema.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key == "nullable":
            nullable = value is True
        elif key == "$recursiveRef":
            out["$ref"] = home if value == "#" else value
        elif key in _ONE:
            out[key] = _node(value, home)
        elif key == "allOf" and any(_only_nullable(item) for item in value):
            # `allOf: [X, {nullable: true}]` means "X or null"; the flag belongs to the node.
            nullable = True
            out[key] = [_node(item, home) for item in value if not _only_nullable(item)]
        elif key in _MANY:
            # oneOf → anyOf: JSON Schema ignores discriminators, and alternatives that overlap
            # (a superset object, a string and a string enum) would make oneOf reject valid bodies.
            out["anyOf" if key == "oneOf" else key] = [_node(item, home) for item in value]
        elif key in _MAP:
            out[key] = {name: _node(item, home) for name, item in value.items()}
        elif key == "required":
            out[key] = list(dict.fromkeys(value))  # a few lists name a property twice; 2020-12 forbids it
        else:
            out[key] = value
    _exclusive_bounds(out)
    return nullable_schema(out) if nullable else out


def _only_nullable(item: Any) -> bool:
    """A schema that says nothing but `nullable: true` (and perhaps a description)."""
    return isinstance(item, dict) and item.get("nullable") is True and set(item) <= {"nullable", "description"}


def _exclusive_bounds(out: Schema) -> None:
    """OpenAPI 3.0's boolean `exclusiveMinimum: true` + `minimum: m` → `exclusiveMinimum: m`."""
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(exclusive), bool) and out.pop(exclusive) and bound in out:
            out[exclusive] = out.pop(bound)


def nullable_schema(schema: Schema) -> Schema:
    """The schema, also accepting `null`."""
    if not schema:
        return schema  # the empty schema already accepts null
    if any(k in schema for k in ("$ref", "allOf", "anyOf", "oneOf", "not", "const")) or "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    types = out["type"] if isinstance(out["type"], list) else [out["type"]]
    out["type"] = types if "null" in types else [*types, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _at(schemas: dict[str, Schema], name: str, *path: str) -> tuple[Schema, str]:
    """The parent node of a property, looking through `allOf` members; and the property name."""
    node = schemas[name]
    *parents, leaf = path
    for key in parents:
        node = node[key]
    if "properties" in node and leaf in node["properties"]:
        return node["properties"], leaf
    for member in node.get("allOf", []):
        if leaf in member.get("properties", {}):
            return member["properties"], leaf
    raise KeyError(f"{name}: no property {'/'.join(path)}")


def _make_nullable(schemas: dict[str, Schema], name: str, *path: str) -> None:
    parent, leaf = _at(schemas, name, *path)
    parent[leaf] = nullable_schema(parent[leaf])


def relax(schemas: dict[str, Schema]) -> dict[str, Schema]:
    """The deliberate departures from the document, and the derived `X-` schemas (in place)."""
    # OpenAI's own Responses stream sends `"usage": null` and `"user": null` (the spec's example).
    _make_nullable(schemas, "Response", "usage")
    _make_nullable(schemas, "ModelResponseProperties", "user")
    # `encoding_format: "base64"` (what the openai SDKs ask for by default) gets the vector as a
    # base64 string of little-endian float32s; the document only lists the float array.
    parent, leaf = _at(schemas, "Embedding", "embedding")
    parent[leaf] = {"anyOf": [parent[leaf], {"type": "string"}]}
    # The legacy completions stream reuses CreateCompletionResponse, but its chunks carry
    # `finish_reason: null` until the last one.
    chunk = copy.deepcopy(schemas["CreateCompletionResponse"])
    choice = chunk["properties"]["choices"]["items"]
    choice["properties"]["finish_reason"] = nullable_schema(choice["properties"]["finish_reason"])
    schemas["X-CreateCompletionStreamChunk"] = chunk
    # DELETE /v1/responses/{id}: the document gives no body; OpenAI answers with the usual
    # deletion object, shaped like DeleteModelResponse and ChatCompletionDeleted.
    schemas["X-ResponseDeleted"] = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "object": {"enum": ["response.deleted"]}, "deleted": {"const": True}},
        "required": ["id", "object", "deleted"],
    }
    return schemas


def stream_event_types(schemas: dict[str, Schema], union: str = "ResponseStreamEvent") -> dict[str, str]:
    """Map each event `type` of a stream union to the name of the schema that describes it."""
    out: dict[str, str] = {}
    for member in schemas[union]["anyOf"]:
        name = member["$ref"].rsplit("/", 1)[-1]
        for value in schemas[name]["properties"]["type"]["enum"]:
            out[value] = name
    return out

