"""Whatever a Responses client sends, parsing gives messages or a 400 naming the problem, never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.protocol.errors import InvalidRequest
from server.protocol.responses_items import items_to_messages
from server.protocol.responses_request import parse_responses_request

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
parts = st.one_of(json_values, st.fixed_dictionaries(
    {"type": st.sampled_from(["input_text", "output_text", "refusal", "input_image", 3])},
    optional={"text": json_values, "refusal": json_values}))
items = st.lists(st.one_of(
    json_values,
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "developer", "tool", 1])},
                          optional={"type": st.sampled_from(["message", None]), "content": st.text(max_size=5) | st.lists(parts, max_size=2) | json_values}),
    st.fixed_dictionaries({"type": st.sampled_from(["function_call", "function_call_output", "reasoning", "web_search_call", 7])},
                          optional={"call_id": st.sampled_from(["call_1", "", 3]), "name": st.sampled_from(["f", "", None]),
                                    "namespace": json_values, "arguments": st.sampled_from(["{}", '{"a":1}', "[1]", "x", None]),
                                    "output": st.text(max_size=5) | st.lists(parts, max_size=2) | json_values, "id": json_values}),
), max_size=4)
tools = st.lists(st.one_of(json_values, st.fixed_dictionaries(
    {"type": st.sampled_from(["function", "namespace", "web_search", 5])},
    optional={"name": st.sampled_from(["f", "g", "", None]), "parameters": json_values, "strict": json_values,
              "tools": st.lists(st.fixed_dictionaries({"type": st.just("function"), "name": st.sampled_from(["f", "h"])}), max_size=2) | json_values},
)), max_size=3)
valid_items = st.lists(st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "developer"]),
                           "content": st.text(max_size=5) | st.lists(st.fixed_dictionaries(
                               {"type": st.sampled_from(["input_text", "output_text"]), "text": st.text(max_size=5)}), max_size=2)}),
    st.fixed_dictionaries({"type": st.just("function_call"), "call_id": st.sampled_from(["call_1", "call_2"]),
                           "name": st.sampled_from(["f", "h"]), "arguments": st.sampled_from(["{}", '{"a": [1]}'])},
                          optional={"namespace": st.sampled_from(["ns", "other"])}),
    st.fixed_dictionaries({"type": st.just("function_call_output"), "call_id": st.sampled_from(["call_1", "call_9"]),
                           "output": st.text(max_size=5) | st.lists(parts, max_size=2)}),
    st.fixed_dictionaries({"type": st.sampled_from(["reasoning", "compaction", "local_shell_call"])}, optional={"id": json_values}),
), min_size=1, max_size=6)
bodies = st.one_of(json_values, st.fixed_dictionaries({"input": st.text(min_size=1, max_size=5) | valid_items | items | json_values}, optional={
    "model": st.sampled_from(["copilot/gpt-5.4", "", 3]),
    "instructions": st.text(max_size=5) | json_values, "tools": tools | json_values,
    "tool_choice": st.sampled_from(["auto", "none", "required", {"type": "function", "name": "f"},
                                    {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "f"}]},
                                    {"type": "file_search"}, 4]),
    "text": json_values | st.fixed_dictionaries({"format": json_values}), "reasoning": json_values,
    "previous_response_id": st.sampled_from(["resp_1", 2]), "store": st.booleans() | json_values,
    "stream": st.booleans() | json_values, "metadata": st.just({"k": "v"}) | json_values,
    "max_output_tokens": json_values, "parallel_tool_calls": st.booleans() | json_values, "background": st.sampled_from([False, True]),
}))


@settings(max_examples=400, deadline=None)
@given(body=bodies)
def test_bodies_parse_or_are_400s(body: Any) -> None:
    try:
        request = parse_responses_request(body)
    except InvalidRequest as exc:
        assert exc.status == 400 and exc.message
        return
    messages, _ = items_to_messages(request.input_items, request.instructions, request.tools.names)
    assert all(isinstance(m.text, str) for m in messages)
    assert all(t["function"]["name"] for t in request.tools.tools)
