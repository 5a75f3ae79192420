"""Whatever a client sends, the answer is a 2xx or an OpenAI-shaped 4xx, never a 500."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
parts = st.one_of(
    json_values,
    st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url", "input_audio", 3]), "text": json_values}),
)
tool_calls = st.lists(
    st.fixed_dictionaries({
        "id": json_values,
        "type": st.just("function"),
        "function": st.fixed_dictionaries({"name": st.sampled_from(["get_weather", 5, None]), "arguments": json_values}),
    }),
    max_size=2,
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant", "tool", "function", "developer", "bogus", 1])},
        optional={"content": st.one_of(st.text(max_size=20), st.lists(parts, max_size=3), json_values),
                  "tool_calls": tool_calls | json_values, "tool_call_id": json_values, "name": json_values,
                  "function_call": json_values},
    ),
    max_size=3,
)
tools = st.lists(
    st.one_of(json_values, st.fixed_dictionaries({
        "type": st.sampled_from(["function", "custom"]),
        "function": st.fixed_dictionaries({"name": st.sampled_from(["get_weather", "", 7])},
                                          optional={"description": json_values, "parameters": json_values}),
    })),
    max_size=2,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"model": st.sampled_from(["copilot/gpt-5.4", "claude/sonnet", "--yolo", "", 3, None])},
        optional={"messages": messages | json_values, "stream": json_values | st.booleans(), "tools": tools | json_values,
                  "tool_choice": st.sampled_from(["auto", "none", "required", {"type": "function", "function": {"name": "x"}}, 4]),
                  "functions": json_values, "function_call": json_values, "stream_options": json_values,
                  "parallel_tool_calls": json_values, "temperature": json_values, "n": json_values},
    ),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
async def test_no_body_gets_a_500(client: TestClient, body: Any) -> None:
    resp = await client.post("/v1/chat/completions", json=body)
    payload = await resp.read()
    assert resp.status < 500 or resp.status == 503, (resp.status, payload[:300], body)
    if resp.status >= 400:
        error = (await resp.json())["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"]


schemas = st.recursive(
    st.fixed_dictionaries({}, optional={"type": st.sampled_from(["object", "string", "integer", "array", 5, None]),
                                        "required": json_values, "enum": json_values, "anyOf": json_values}),
    lambda inner: st.fixed_dictionaries({"type": st.just("object")},
                                        optional={"properties": st.dictionaries(st.sampled_from(["city", "days", "x"]), inner, max_size=3) | json_values,
                                                  "items": inner, "required": json_values}),
    max_leaves=5,
)
CALL = '<tool_call>{"name": "get_weather", "arguments": ARGS}</tool_call>'
XML_CALL = '<function_calls><invoke name="get_weather"><parameter name="city">VALUE</parameter></invoke></function_calls>'


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=schemas, description=json_values, args=st.dictionaries(st.sampled_from(["city", "days", "x"]), json_values, max_size=3),
       value=st.text(max_size=10), model=st.sampled_from(["copilot/gpt-5.4", "claude/sonnet"]), stream=st.booleans())
async def test_odd_tool_schemas_never_break_a_request(
    client: TestClient, tmp_path_factory: Any, schema: Any, description: Any, args: Any, value: str, model: str, stream: bool
) -> None:
    import json

    path = tmp_path_factory.mktemp("reply") / "reply.txt"
    reply = CALL.replace("ARGS", json.dumps(args)) if model.startswith("copilot") else XML_CALL.replace("VALUE", value)
    path.write_text(reply, encoding="utf-8")
    tool = {"type": "function", "function": {"name": "get_weather", "description": description, "parameters": schema}}
    body = {"model": model, "stream": stream, "tools": [tool],
            "messages": [{"role": "user", "content": f"go [[fake:reply_file={path}]]"}]}
    resp = await client.post("/v1/chat/completions", json=body)
    raw = (await resp.read()).decode()
    assert resp.status in (200, 400), (resp.status, raw[:300])
    assert '"error"' not in raw or resp.status == 400, raw[-300:]
