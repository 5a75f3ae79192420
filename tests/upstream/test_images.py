"""Images to a model server: sent on as OpenAI `image_url` parts (data URLs), streamed or not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.server.params.media_helpers import BLUE, RED, THINKING, data_url
from tests.upstream.conftest import Bridge, MakeBridge, StartUpstream, Upstream


def parts_sent(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, text or URL) of the last message's content parts."""
    content = body["messages"][-1]["content"]
    return [(p["type"], p.get("text") or p["image_url"]["url"]) for p in content]


@pytest.mark.parametrize("stream", [False, True])
async def test_chat_images_go_as_image_url_parts(bridge: Bridge, upstream: Upstream, stream: bool) -> None:
    messages = [{"role": "user", "content": [
        {"type": "text", "text": f"Which colours? [[fake:reasoning={THINKING}]]"},
        {"type": "image_url", "image_url": {"url": data_url(RED), "detail": "high"}},
        {"type": "image_url", "image_url": {"url": data_url(BLUE)}}]}]
    result = await bridge.sdk.chat.completions.create(model=upstream.model, messages=messages, stream=stream,
                                                      reasoning_effort="high")  # type: ignore[call-overload]
    if stream:
        chunks = [chunk async for chunk in result]
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)
    else:
        text, reasoning = result.choices[0].message.content, getattr(result.choices[0].message, "reasoning_content", None)
    assert (text, reasoning) == ("Hello from mock.", THINKING)
    (sent,) = [r["body"] for r in await upstream.requests()]
    assert parts_sent(sent) == [("text", f"Which colours? [[fake:reasoning={THINKING}]]"),
                                ("image_url", data_url(RED)), ("image_url", data_url(BLUE))]
    assert sent["messages"][-1]["content"][1]["image_url"]["detail"] == "high"
    assert sent["reasoning_effort"] == "high"


async def test_responses_input_image_goes_as_an_image_url_part(bridge: Bridge, upstream: Upstream) -> None:
    response = await bridge.sdk.responses.create(model=upstream.model, input=[{"role": "user", "content": [
        {"type": "input_text", "text": "Describe"}, {"type": "input_image", "image_url": data_url(RED), "detail": "auto"}]}])
    assert response.output_text == "Hello from mock."
    (sent,) = [r["body"] for r in await upstream.requests()]
    assert parts_sent(sent) == [("text", "Describe"), ("image_url", data_url(RED))]


async def test_the_plain_text_history_fallback_keeps_the_images(start_upstream: StartUpstream,
                                                                make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("vllm", reject_tool_history=True)
    bridge = await make_bridge(upstream)
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Weather here?"}, {"type": "image_url", "image_url": {"url": data_url(RED)}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "22C"}]
    completion = await bridge.sdk.chat.completions.create(model=upstream.model, messages=messages)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "Hello from mock."
    accepted = [r["body"] for r in await upstream.requests()][-1]
    assert all(m["role"] != "tool" for m in accepted["messages"])  # the history went as text
    images = [p for m in accepted["messages"] if isinstance(m["content"], list) for p in m["content"]
              if p["type"] == "image_url"]
    assert images == [{"type": "image_url", "image_url": {"url": data_url(RED)}}]
    assert "22C" in json.dumps(accepted["messages"])
