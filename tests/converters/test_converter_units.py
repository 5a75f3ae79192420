"""Unit checks of the pieces: schema typing, validation, the tool index, the tape, the registry."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.converters import DIALECTS, build_dialects
from server.converters.base import Ctx, Fail, Marker
from server.converters.coerce import coerce_params, coerce_value
from server.converters.registry import default_table
from server.converters.tape import Tape
from server.converters.toolindex import ToolIndex
from server.converters.validate import check_arguments
from server.converters.xmlish import trim_newlines


@pytest.mark.parametrize(
    ("raw", "schema", "expected"),
    [
        (" 42 ", {"type": "integer"}, 42),
        ("42.0", {"type": "integer"}, 42),
        ("4x", {"type": "integer"}, "4x"),
        ("020", {"type": "integer"}, 20),
        ("020", {"type": "string"}, "020"),
        ("  spaced ", {"type": "string"}, "  spaced "),
        ("2", {"type": "number"}, 2),
        ("2.5e1", {"type": "float"}, 25.0),
        ("1e999", {"type": "number"}, "1e999"),
        ("TRUE", {"type": "boolean"}, True),
        ("yes", {"type": "boolean"}, "yes"),
        ('{"a": 1}', {"type": "object"}, {"a": 1}),
        ("{'a': None}", {"type": "object"}, {"a": None}),
        ("[1, 'x']", {"type": "array"}, [1, "x"]),
        ("not a list", {"type": "array"}, "not a list"),
        ("null", {"type": ["string", "null"]}, None),
        ("7", {"anyOf": [{"type": "integer"}, {"type": "null"}]}, 7),
        ("null", {"type": "integer", "nullable": True}, None),
        ("hello", {"anyOf": [{"type": "string"}, {"type": "null"}]}, "hello"),
        ("3", {"enum": [1, 2, 3]}, 3),
        ("3", {"description": "no type"}, "3"),
        ("3", None, "3"),
    ],
)
def test_values_are_typed_by_the_schema(raw: str, schema: Any, expected: Any) -> None:
    value = coerce_value(raw, schema)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    "raw", ["5", "020", "-0.5", "true", "null", "None", "[1, 2]", '{"a": 1}', " 5 ", ""]
)
@pytest.mark.parametrize("schema", [None, {}, {"description": "no type"}, "odd"])
def test_without_a_type_in_the_schema_values_stay_text(raw: str, schema: Any) -> None:
    # The wire format carries no types: "5" may be a zip code or an id, so only a schema says 5.
    assert coerce_value(raw, schema) == raw


def test_a_property_the_schema_does_not_name_stays_text() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert coerce_params(schema, [("n", "5"), ("m", "5")]) == {"n": 5, "m": "5"}
    assert coerce_params({}, [("m", "true")]) == {"m": "true"}
    assert coerce_params(None, [("m", "[1]")]) == {"m": "[1]"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\nx\n", "x"),
        ("\r\nx\r\n", "x"),
        ("\n\nx\n\n", "\nx\n"),
        ("  x  ", "  x  "),
        ("\n  x \n", "  x "),
        ("x\r", "x\r"),
        ("\n", ""),
        ("", ""),
    ],
)
def test_one_layout_newline_is_trimmed_at_each_end(raw: str, expected: str) -> None:
    assert trim_newlines(raw) == expected


def test_validation_reports_required_types_enums_and_extras() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "b": {"type": "boolean"},
            "e": {"enum": [1, "x"]},
            "u": {"type": ["string", "null"]},
        },
        "required": ["n", "m"],
        "additionalProperties": False,
    }
    problems = check_arguments({"n": True, "b": 1, "e": True, "u": None, "z": 0}, schema)
    assert problems == (
        "missing required property 'm'",
        "property 'n' should be integer",
        "property 'b' should be boolean",
        "property 'e' should be one of 1, \"x\"",
        "unexpected property 'z'",
    )
    assert check_arguments({"n": 2.0, "m": 1}, {**schema, "additionalProperties": True}) == ()
    assert check_arguments({"anything": 1}, None) == ()


def test_tool_index_accepts_nested_and_flat_tools() -> None:
    index = ToolIndex.from_tools(
        [{"type": "function", "function": {"name": "a"}}, {"name": "b", "parameters": {}}]
    )
    assert index.known("a") and index.known("b") and not index.known("c")
    assert ToolIndex.from_tools(None).known("c") and ToolIndex.from_tools([]).known("c")


def test_tool_index_infers_a_name_only_when_exactly_one_tool_fits() -> None:
    schema = {"properties": {"city": {}}, "required": ["city"]}
    index = ToolIndex.from_tools(
        [{"name": "w", "parameters": schema}, {"name": "s", "parameters": {}}]
    )
    assert index.infer_name({"city": "x"}) == "w"
    assert index.infer_name({}) == "s"
    assert index.infer_name({"other": 1}) is None


def test_tape_reads_any_range_after_compaction() -> None:
    tape = Tape()
    text = "".join(chr(65 + i % 26) for i in range(5000))
    for i, char in enumerate(text):
        tape.append(char)
        tape.release(i)
    assert tape.working_length < 600
    assert tape.get(0, 5000) == text
    assert tape.get(1234, 4321) == text[1234:4321]
    assert tape.find("XYZ", 10) == text.find("XYZ", 10)


def test_registry_is_an_explicit_table_keyed_by_dialect_name() -> None:
    assert dict(DIALECTS) == build_dialects()
    assert all(name == dialect.name for name, dialect in DIALECTS.items())
    assert {
        "hermes",
        "claude_xml",
        "glm45",
        "qwen3coder",
        "harmony",
        "llama3_json",
        "pythonic",
        "mistral",
        "deepseek_v3",
        "deepseek_v31",
        "kimi_k2",
        "json",
    } <= set(DIALECTS)
    table = default_table()
    assert "<tool_call>" in table.anywhere and "{" in table.line


FILTERED = [m for d in DIALECTS.values() for m in d.markers if m.not_markup is not None]
NAMED = ToolIndex.from_tools([{"name": n} for n in ("a", "ab", "a.b", "é")])


def test_the_pythonic_bracket_filter_skips_prose_brackets_only() -> None:
    (bracket,) = FILTERED
    assert bracket.text == "[" and bracket.not_markup is not None
    for prose in (
        "[the docs]", "a[i]", "[link](x)", "[1, 2]", "[ .x", "[search q", "[f(x)]", "[f(x==1)]",
    ):  # fmt: skip
        assert bracket.not_markup.search(prose), prose
    for maybe in (
        "[search(q=1)]", "[f()]", "[ ab (", '[{"name"', "[search", "[f(x", "[f(x =", "[ ",
    ):  # fmt: skip
        assert bracket.not_markup.match(maybe) is None, maybe


@settings(max_examples=5000, deadline=None)
@given(
    body=st.text(alphabet="ab1.é_ (){}[]'=,\n\t", max_size=16),
    marker=st.sampled_from(FILTERED),
    tools=st.sampled_from([NAMED, ToolIndex()]),
    line_start=st.booleans(),
)
def test_a_marker_filter_rejects_only_what_its_scanner_rejects_at_once(
    body: str, marker: Marker, tools: ToolIndex, line_start: bool
) -> None:
    text = marker.text + body
    assert marker.not_markup is not None
    if marker.not_markup.match(text) is None:
        return
    scan = marker.scan(Tape(text, eof=True), Ctx(tools, tools.given, line_start))
    try:
        item = next(scan)
    except StopIteration as stop:
        assert stop.value == Fail(), text
    else:
        pytest.fail(f"the filter skipped {text!r}, where the scanner found {item!r}")
