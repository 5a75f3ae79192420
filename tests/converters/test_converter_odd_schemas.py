"""Clients send all kinds of `parameters`: no schema, however odd, may crash the converter."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.converters import (
    DIALECTS,
    StreamingParser,
    parse,
    render_tool_call,
    render_tool_instructions,
)

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
KEYWORDS = {"type": st.sampled_from(["object", "string", "integer", "number", "boolean", "array", "null", 5, None, ["string", "null"]]),
            "required": values, "enum": values, "anyOf": values, "oneOf": values, "items": values, "properties": values}
schemas = st.recursive(
    st.fixed_dictionaries({}, optional=KEYWORDS),
    lambda inner: st.fixed_dictionaries({"type": st.just("object")}, optional={
        "properties": st.dictionaries(st.sampled_from(["city", "days", "x"]), inner, max_size=3) | values,
        "items": inner, "required": values, "anyOf": st.lists(inner, max_size=2)}),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(schema=schemas | values, description=values, args=st.dictionaries(st.sampled_from(["city", "days", "x"]), values, max_size=3),
       value=st.text(max_size=8), dialect=st.sampled_from(sorted(DIALECTS)))
def test_odd_schemas_and_values_never_crash(schema: Any, description: Any, args: dict[str, Any], value: str, dialect: str) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "description": description, "parameters": schema}}]
    assert "get_weather" in render_tool_instructions(tools, dialect=dialect)
    assert "get_weather" in render_tool_call("get_weather", json.dumps(args), dialect)
    texts = [
        "<tool_call>" + json.dumps({"name": "get_weather", "arguments": args}) + "</tool_call>",
        f'<function_calls><invoke name="get_weather"><parameter name="city">{value}</parameter></invoke></function_calls>',
        f"<tool_call>get_weather<arg_key>days</arg_key><arg_value>{value}</arg_value></tool_call>",
    ]
    for text in texts:
        whole = parse(text, tools)
        parser = StreamingParser(tools)
        events = [*parser.feed(text), *parser.finish()]
        assert len(whole.calls) == sum(type(e).__name__ == "CallStart" for e in events)
