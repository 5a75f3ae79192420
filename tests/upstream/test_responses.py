"""The Responses API over a model server: text, reasoning, native and converted calls, the round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.upstream_shapes import Personality
from tests.upstream.conftest import CALL, MakeBridge, StartUpstream, Upstream

TOOL: Any = {"type": "function", "name": "get_weather", "description": "Weather for a city",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


async def test_text_and_reasoning_whole_and_streamed(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream)
    whole = await bridge.sdk.responses.create(model=upstream.model, input="[[fake:reasoning=Hmm.]] hi",
                                              instructions="Be brief.")
    assert whole.output_text == "Hello from mock." and whole.status == "completed"
    assert [item.type for item in whole.output] == ["reasoning", "message"]
    (sent,) = [r["body"] for r in await upstream.requests()]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    stream = await bridge.sdk.responses.create(model=upstream.model, input="[[fake:chunks=3]]", stream=True)
    events = [event async for event in stream]
    assert [e.delta for e in events if e.type == "response.output_text.delta"] == ["Hello", " from", " mock."]
    assert events[-1].type == "response.completed"


@pytest.mark.parametrize(("personality", "style"), [("ollama", "native"), ("llama_cpp_python", "bare")])
async def test_a_call_and_its_output_round_trip(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                personality: Personality, style: str) -> None:
    upstream = await start_upstream(personality, tool_style=style)
    bridge = await make_bridge(upstream)
    first = await bridge.sdk.responses.create(model=upstream.model, input=CALL, tools=[TOOL])
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    # Stateless this time (the fake would obey the first turn's directive again): the call item back as input.
    second = await bridge.sdk.responses.create(model=upstream.model, tools=[TOOL], input=[
        {"role": "user", "content": "Weather in Paris?"}, call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": "22C [[fake:reply=It is 22C.]]"}])
    assert second.output_text == "It is 22C." and [item.type for item in second.output] == ["message"]
    sent = (await upstream.requests())[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather" and sent[2]["tool_call_id"] == call.call_id
