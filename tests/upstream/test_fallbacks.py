"""Servers that refuse part of a request: each fallback end to end, named, logged and remembered."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.fakes.upstream_shapes import Personality
from tests.upstream.conftest import CALL, WEATHER, Bridge, MakeBridge, StartUpstream, Upstream, user

HISTORY = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "22C"},
    {"role": "tool", "tool_call_id": "call_2", "content": ""},
]


async def ask(bridge: Bridge, upstream: Upstream, messages: list[dict[str, Any]], *, stream: bool = False,
              **kwargs: Any) -> tuple[Mapping[str, str], Any]:
    """One request through the SDK: the response headers and the parsed (or accumulated) answer."""
    if not stream:
        raw = await bridge.sdk.chat.completions.with_raw_response.create(model=upstream.model, messages=messages, **kwargs)
        return raw.headers, raw.parse()
    async with bridge.sdk.chat.completions.with_streaming_response.create(
            model=upstream.model, messages=messages, stream=True, **kwargs) as response:
        chunks = [chunk async for chunk in await response.parse()]
        return response.headers, chunks


def the_call(answer: Any) -> tuple[str, dict[str, Any]]:
    """The one tool call of a whole answer or of a list of chunks."""
    if isinstance(answer, list):
        calls = [tc for c in answer if c.choices for tc in c.choices[0].delta.tool_calls or []]
        name = "".join(tc.function.name or "" for tc in calls)
        return name, json.loads("".join(tc.function.arguments or "" for tc in calls))
    (call,) = answer.choices[0].message.tool_calls
    return call.function.name, json.loads(call.function.arguments)


@pytest.mark.parametrize(("personality", "status"), [
    ("vllm", 400), ("ollama", 400), ("lmstudio", 400), ("llamacpp", 500), ("llama_cpp_python", 500), ("vllm", 422),
])
async def test_tools_refused_go_as_legacy_functions_once(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                         personality: Personality, status: int) -> None:
    upstream = await start_upstream(personality, reject_tools=status)
    bridge = await make_bridge(upstream)
    with capture_logs() as logs:
        headers, answer = await ask(bridge, upstream, user(CALL), tools=WEATHER)
    assert headers["X-Bridge-Fallbacks"] == "tools_as_functions"
    assert the_call(answer) == ("get_weather", {"city": "Paris"})
    first, second = [r["body"] for r in await upstream.requests()]
    assert first["tools"] == WEATHER and "functions" not in first
    assert second["functions"] == [WEATHER[0]["function"]] and "tools" not in second
    fallback_logs = [e for e in logs if e["event"] == "upstream_fallback"]
    assert [(e["fallback"], e["status"]) for e in fallback_logs] == [("tools_as_functions", status)]
    # Remembered: the next request (streamed this time) goes straight to functions.
    await upstream.clear()
    headers, chunks = await ask(bridge, upstream, user(CALL), tools=WEATHER, stream=True)
    assert headers["X-Bridge-Fallbacks"] == "tools_as_functions"
    assert the_call(chunks) == ("get_weather", {"city": "Paris"})
    (only,) = [r["body"] for r in await upstream.requests()]
    assert "functions" in only and "tools" not in only


async def test_named_tool_choice_becomes_function_call(start_upstream: StartUpstream, make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("vllm", reject_tools=400)
    bridge = await make_bridge(upstream)
    await ask(bridge, upstream, user(CALL), tools=WEATHER, tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert (await upstream.requests())[-1]["body"]["function_call"] == {"name": "get_weather"}


@pytest.mark.parametrize("stream", [False, True])
async def test_tools_and_functions_refused_go_into_the_prompt(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                              stream: bool) -> None:
    # The model then writes its call as markup, which the converter turns back into a tool call.
    upstream = await start_upstream("vllm", reject_tools=400, reject_functions=400, tool_style="hermes")
    bridge = await make_bridge(upstream)
    headers, answer = await ask(bridge, upstream, user(CALL), tools=WEATHER, stream=stream)
    assert headers["X-Bridge-Fallbacks"] == "tools_in_prompt"
    assert the_call(answer) == ("get_weather", {"city": "Paris"})
    bodies = [r["body"] for r in await upstream.requests()]
    assert ["tools" in b for b in bodies] == [True, False, False]
    assert ["functions" in b for b in bodies] == [False, True, False]
    system = bodies[2]["messages"][0]
    assert system["role"] == "system" and "get_weather" in system["content"] and "<tool_call>" in system["content"]
    await upstream.clear()
    headers, answer = await ask(bridge, upstream, user(CALL), tools=WEATHER, stream=not stream)
    assert headers["X-Bridge-Fallbacks"] == "tools_in_prompt" and the_call(answer)[0] == "get_weather"
    assert len(await upstream.requests()) == 1


async def test_the_prompt_fallback_writes_the_configured_dialect(start_upstream: StartUpstream,
                                                                 make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("vllm", reject_tools=400, reject_functions=400)
    bridge = await make_bridge(upstream, TOOL_DIALECTS="qwen*=glm45")
    await ask(bridge, upstream, [{"role": "system", "content": "Be brief."}, *user("hi")], tools=WEATHER)
    system = (await upstream.requests())[-1]["body"]["messages"][0]["content"]
    assert system.startswith("Be brief.\n\n") and "<arg_key>city</arg_key>" in system


@pytest.mark.parametrize("personality", ["vllm", "lmstudio", "llamacpp"])
async def test_refused_tool_history_goes_as_text(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                 personality: Personality) -> None:
    upstream = await start_upstream(personality, reject_tool_history=True)
    bridge = await make_bridge(upstream)
    headers, answer = await ask(bridge, upstream, HISTORY, tools=WEATHER)
    assert headers["X-Bridge-Fallbacks"] == "history_as_text"
    assert answer.choices[0].message.content == "Hello from mock."
    refused, sent = [r["body"] for r in await upstream.requests()]
    assert refused["messages"][2]["role"] == "tool"
    assert sent["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'},
        {"role": "user", "content": "[Tool result: get_weather (call id call_1)]\n22C\n\n[Tool result: (call id call_2)]\n(empty)"},
    ]
    assert sent["tools"] == WEATHER  # tools themselves were not the problem
    await upstream.clear()
    await ask(bridge, upstream, HISTORY, stream=True)
    (only,) = [r["body"] for r in await upstream.requests()]
    assert all(m["role"] != "tool" for m in only["messages"])


@pytest.mark.parametrize(("personality", "mode"), [("vllm", "reject_empty"), ("llamacpp", "reject_empty"),
                                                   ("lmstudio", "reject_empty")])
async def test_refused_empty_content_is_filled(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                               personality: Personality, mode: str) -> None:
    upstream = await start_upstream(personality, empty_content=mode)
    bridge = await make_bridge(upstream)
    messages = [*user("hi"), {"role": "assistant", "content": ""}, *user("again")]
    headers, answer = await ask(bridge, upstream, messages)
    assert headers["X-Bridge-Fallbacks"] == "history_as_text"
    assert answer.choices[0].message.content == "Hello from mock."
    assert [m["content"] for m in (await upstream.requests())[-1]["body"]["messages"]] == ["hi", "(empty)", "again"]


async def test_a_call_without_content_needs_no_fallback_on_llama_cpp_python(start_upstream: StartUpstream,
                                                                            make_bridge: MakeBridge) -> None:
    # llama-cpp-python refuses `content: null` with a 500; the bridge leaves the key out instead.
    upstream = await start_upstream("llama_cpp_python")
    bridge = await make_bridge(upstream)
    headers, answer = await ask(bridge, upstream, HISTORY[:3], tools=WEATHER)
    assert "X-Bridge-Fallbacks" not in headers and answer.choices[0].message.content == "Hello from mock."
    (sent,) = [r["body"] for r in await upstream.requests()]
    assert "content" not in sent["messages"][1]


async def test_max_tokens_above_the_stated_limit_is_clamped(start_upstream: StartUpstream, make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("vllm", max_model_len=4096)
    bridge = await make_bridge(upstream)
    messages = user("x" * 400)  # 100 prompt tokens by the fake's count
    headers, answer = await ask(bridge, upstream, messages, max_tokens=100_000)
    assert headers["X-Bridge-Fallbacks"] == "max_tokens_clamped"
    assert answer.choices[0].message.content == "Hello from mock."
    assert [r["body"]["max_tokens"] for r in await upstream.requests()] == [100_000, 3996]
    await upstream.clear()
    headers, _ = await ask(bridge, upstream, messages, max_completion_tokens=50_000, stream=True)
    assert headers["X-Bridge-Fallbacks"] == "max_tokens_clamped"
    assert [r["body"]["max_tokens"] for r in await upstream.requests()] == [3996]
    await upstream.clear()
    headers, _ = await ask(bridge, upstream, messages, max_tokens=10)  # under the limit: untouched
    assert "X-Bridge-Fallbacks" not in headers and (await upstream.requests())[0]["body"]["max_tokens"] == 10


async def test_max_tokens_setting_clamps_before_sending(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream, BACKEND_MAX_TOKENS="256")
    headers, _ = await ask(bridge, upstream, user("hi"), max_tokens=1000)
    assert headers["X-Bridge-Fallbacks"] == "max_tokens_clamped"
    headers, _ = await ask(bridge, upstream, user("hi"), max_tokens=100)
    assert "X-Bridge-Fallbacks" not in headers
    assert [r["body"]["max_tokens"] for r in await upstream.requests()] == [256, 100]


async def test_a_plain_error_costs_one_request(start_upstream: StartUpstream, make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("vllm")
    bridge = await make_bridge(upstream)
    raw = await bridge.client.post("/v1/chat/completions", json={
        "model": upstream.model, "messages": [*HISTORY, *user("[[fake:status=500]]")], "tools": WEATHER})
    assert raw.status == 500 and "X-Bridge-Fallbacks" not in raw.headers
    assert (await raw.json())["error"]["message"] == "Fake error with status 500."
    assert len(await upstream.requests()) == 1


async def test_rediscovering_the_models_forgets_the_fallbacks(start_upstream: StartUpstream,
                                                              make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("ollama", reject_tools=400)
    bridge = await make_bridge(upstream)
    await ask(bridge, upstream, user(CALL), tools=WEATHER)
    await ask(bridge, upstream, user(CALL), tools=WEATHER)
    assert len(await upstream.requests()) == 3
    assert [m.id async for m in bridge.sdk.models.list(extra_query={"refresh": "true"})] == [
        "upstream/llama3.2:latest", "upstream/qwen2.5-coder:7b"]
    await upstream.clear()
    await ask(bridge, upstream, user(CALL), tools=WEATHER)
    assert ["tools" in r["body"] for r in await upstream.requests()] == [True, False]


async def test_the_request_log_names_the_fallbacks(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                   tmp_path: Path) -> None:
    upstream = await start_upstream("vllm", reject_tools=400)
    bridge = await make_bridge(upstream)
    await ask(bridge, upstream, user(CALL), tools=WEATHER)
    await bridge.client.close()  # flushes the request log
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "logs" / "requests").rglob("*.json")]
    assert record["fallbacks"] == ["tools_as_functions"] and record["backend"] == "upstream"
