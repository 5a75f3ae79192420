"""The fake upstream's multi-turn scripts (`[[fake:replies_file=…]]`): item N for the N-th model turn."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.upstream_server import running_upstream_server
from tests.fakes.upstream_shapes import PERSONALITIES, Personality

CLOCK = {"tool_call": "time_now", "arguments": {"timezone": "Asia/Seoul"}}


def script(tmp_path: Path, items: list[Any]) -> str:
    """The directive that plays `items`, one per model turn."""
    path = tmp_path / f"replies-{len(list(tmp_path.glob('replies-*.json')))}.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return f"[[fake:replies_file={path}]]"


def conversation(directive: str, turns: int) -> list[dict[str, Any]]:
    """A user message with the script, then `turns` assistant messages, each answered by a tool result."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"What time is it? {directive}"}]
    for n in range(turns):
        messages.append({"role": "assistant",
                         "tool_calls": [{"id": f"c{n}", "type": "function",
                                         "function": {"name": "time_now", "arguments": "{}"}}]})
        messages.append({"role": "tool", "tool_call_id": f"c{n}", "content": f"result {n}"})
    return messages


async def chat(http: aiohttp.ClientSession, base_url: str, messages: list[dict[str, Any]],
               stream: bool = False) -> dict[str, Any]:
    """One answer as `{content, tool_calls, finish_reason, reasoning}`, whole or put together from the stream."""
    body = {"model": "m", "messages": messages, "stream": stream}
    async with http.post(base_url + "/chat/completions", json=body) as response:
        assert response.status == 200, await response.text()
        if not stream:
            choice = (await response.json())["choices"][0]
            message = choice["message"]
            return {"content": message.get("content") or "", "tool_calls": [
                (c["function"]["name"], c["function"]["arguments"]) for c in message.get("tool_calls") or []],
                "finish_reason": choice["finish_reason"], "reasoning": message.get("reasoning_content") or ""}
        raw = (await response.read()).decode()
    deltas, finish = [], None
    for block in raw.split("\n\n"):
        if block.startswith("data: {"):
            chunk = json.loads(block.removeprefix("data: "))
            if chunk["choices"]:
                deltas.append(chunk["choices"][0]["delta"])
                finish = chunk["choices"][0]["finish_reason"] or finish
    calls: dict[int, list[str]] = {}
    for delta in deltas:
        for part in delta.get("tool_calls") or []:
            entry = calls.setdefault(part["index"], ["", ""])
            entry[0] = entry[0] or part["function"].get("name") or ""  # llama-cpp-python repeats it
            entry[1] += part["function"].get("arguments") or ""
    return {"content": "".join(d.get("content") or "" for d in deltas),
            "tool_calls": [tuple(calls[i]) for i in sorted(calls)], "finish_reason": finish,
            "reasoning": "".join(d.get("reasoning_content") or "" for d in deltas)}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_item_n_answers_the_turn_after_n_assistant_messages(
    http: aiohttp.ClientSession, tmp_path: Path, personality: Personality, stream: bool
) -> None:
    directive = script(tmp_path, [CLOCK, {**CLOCK, "content": "Once more."}, "It is 21:00 in Seoul."])
    async with running_upstream_server(personality, check_model=False) as url:
        answers = [await chat(http, url, conversation(directive, turns), stream) for turns in range(4)]
    first, second, third, past_the_end = answers
    assert first["tool_calls"] == [("time_now", '{"timezone": "Asia/Seoul"}')] and first["content"] == ""
    assert first["finish_reason"] == "tool_calls"
    assert second["tool_calls"] == first["tool_calls"] and second["content"] == "Once more."
    assert (third["content"], third["tool_calls"], third["finish_reason"]) == ("It is 21:00 in Seoul.", [], "stop")
    assert past_the_end == third  # the last item once the script has run out


@pytest.mark.parametrize("how", ["switch", "directive"])
async def test_tool_style_writes_a_scripted_call_as_markup(http: aiohttp.ClientSession, tmp_path: Path, how: str) -> None:
    directive = script(tmp_path, [{**CLOCK, "content": "Let me look."}])
    if how == "directive":
        directive += " [[fake:tool_style=hermes]]"
    switches: dict[str, Any] = {"tool_style": "hermes"} if how == "switch" else {}
    async with running_upstream_server("llamacpp", **switches) as url:
        answer = await chat(http, url, conversation(directive, 0), stream=True)
    assert answer["content"] == ('Let me look.\n<tool_call>\n{"name": "time_now", "arguments": {"timezone": "Asia/Seoul"}}'
                                 "\n</tool_call>")
    assert answer["tool_calls"] == [] and answer["finish_reason"] == "stop"


async def test_text_items_are_sent_as_written_and_their_directives_apply(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    markup = '<tool_call>\n{"name": "time_now", "arguments": {}}\n</tool_call>'
    directive = script(tmp_path, [
        markup,
        'Checking. [[fake:tool_call=http_request {"url": "http://127.0.0.1:1/"}]][[fake:reasoning=Hmm.]]',
        "Cut short [[fake:finish=length]]",
    ])
    async with running_upstream_server("vllm", check_model=False) as url:
        literal, with_call, cut = [await chat(http, url, conversation(directive, turns)) for turns in range(3)]
    assert literal["content"] == markup and literal["tool_calls"] == [] and literal["finish_reason"] == "stop"
    assert with_call["content"] == "Checking. " and with_call["reasoning"] == "Hmm."
    assert with_call["tool_calls"] == [("http_request", '{"url": "http://127.0.0.1:1/"}')]
    assert (cut["content"], cut["finish_reason"]) == ("Cut short ", "length")


async def test_a_list_item_is_parallel_calls_and_string_arguments_go_out_verbatim(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    directive = script(tmp_path, [[CLOCK, {"tool_call": "http_request", "arguments": '{"url": "http://x/"'}]])
    async with running_upstream_server("vllm", check_model=False) as url:
        whole = await chat(http, url, conversation(directive, 0))
        streamed = await chat(http, url, conversation(directive, 0), stream=True)
        hermes = await chat(http, url, conversation(directive + "[[fake:tool_style=hermes]]", 0))
    for answer in (whole, streamed):
        assert answer["tool_calls"] == [("time_now", '{"timezone": "Asia/Seoul"}'), ("http_request", '{"url": "http://x/"')]
    assert hermes["content"].endswith('<tool_call>\n{"name": "http_request", "arguments": {"url": "http://x/"}\n</tool_call>')


async def test_the_later_of_reply_and_replies_file_wins(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    directive = script(tmp_path, ["Scripted."])
    async with running_upstream_server("vllm", check_model=False) as url:
        overridden = conversation(directive, 1)
        overridden[-1]["content"] = "result [[fake:reply=From the tool result.]]"
        assert (await chat(http, url, overridden))["content"] == "From the tool result."
        later = [{"role": "user", "content": f"[[fake:reply=Plain.]] {directive}"}]
        assert (await chat(http, url, later))["content"] == "Scripted."
        # Without a script the same conversation gets the default answer: the count alone changes nothing.
        assert (await chat(http, url, conversation("", 2)))["content"] == "Hello from mock."


async def test_a_malformed_script_fails_loudly(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    async with running_upstream_server("vllm", check_model=False) as url:
        for items in ([], [{"name": "time_now"}], [42]):
            body = {"model": "m", "messages": conversation(script(tmp_path, items), 0)}
            async with http.post(url + "/chat/completions", json=body) as response:
                assert response.status == 500
