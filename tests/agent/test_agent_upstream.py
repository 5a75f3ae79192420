"""Both agent endpoints end to end over the upstream backend: the fake upstream plays the model.

The same story as test_agent_e2e.py (time_now, then http_request against a local site, then an
answer; the step limit, bad arguments, refused hosts), with a model server instead of a CLI: vLLM
and Ollama answering with native tool calls, llama-cpp-python writing them as Hermes markup. What
the model read back is checked in the fake's record of each request: `tool` messages answering
the calls by id, or `Observation:` text for the reason-then-act endpoint.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.agent.script import named_events, scripted, upstream_turns
from tests.agent.sites import Site
from tests.conftest import MakeClient
from tests.fakes.upstream_server import running_upstream_server
from tests.fakes.upstream_shapes import Personality
from tests.upstream.conftest import Upstream

ENDPOINTS = ["/api/chat", "/api/agent_chat"]
# How each server's model writes its calls: native tool calls, or Hermes `<tool_call>` text the converter reads.
TOOL_STYLE: dict[Personality, str] = {"vllm": "native", "ollama": "native", "llama_cpp_python": "hermes"}
# The call ids native calls carry (the bridge passes the server's own on).
NATIVE_ID_PREFIX: dict[Personality, str] = {"vllm": "chatcmpl-tool-", "ollama": "call_"}
QUESTION = "What time is it in Seoul, and is the status page up?"
ANSWER = "It is evening in Seoul, and the status page is up."


@dataclass
class Agent:
    """The bridge (agent enabled, only the upstream backend) and the fake upstream behind it."""

    client: TestClient
    upstream: Upstream

    @property
    def model(self) -> str:
        """The model id the bridge lists for the upstream's model."""
        return self.upstream.model

    async def ask(self, endpoint: str, **body: Any) -> Any:
        """POST to an agent endpoint with this model; the response, status checked by the caller."""
        return await self.client.post(endpoint, json={"model": self.model, **body})

    async def turns(self) -> list[dict[str, Any]]:
        """The body of every chat request the model got, oldest first."""
        return [r["body"] for r in await self.upstream.requests()]


StartAgent = Callable[..., Awaitable[Agent]]


@pytest.fixture
async def start_agent(make_client: MakeClient, agent_config: dict[str, str]) -> AsyncIterator[StartAgent]:
    """Start a fake upstream of a personality (with its tool style) and a bridge in front of it."""
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())

        async def start(personality: Personality, **config: str) -> Agent:
            server = running_upstream_server(personality, tool_style=TOOL_STYLE[personality])
            base_url = await stack.enter_async_context(server)
            env = {**agent_config, "SERVICE": "upstream", "BACKEND_URL": base_url, **config}
            return Agent(await make_client(config=env), Upstream(base_url, personality, http))

        yield start


def clock_and_fetch(site: Site) -> list[tuple[str, Any]]:
    """The two calls of the story: the time in Seoul, then the site's status page."""
    return [("time_now", {"timezone": "Asia/Seoul"}), ("http_request", {"url": site.url("/status")})]


def answered_calls(turn: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The last assistant message's calls, each with the `tool` message that answers it by id."""
    messages = turn["messages"]
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    results = {m["tool_call_id"]: m for m in messages[last + 1:] if m["role"] == "tool"}
    assert len(results) == len(messages) - last - 1, "only tool messages follow the calls"
    return [(call, results[call["id"]]) for call in messages[last]["tool_calls"]]


@pytest.mark.parametrize("personality", list(TOOL_STYLE))
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_time_then_http_then_an_answer(
    start_agent: StartAgent, site: Site, canary: Site, tmp_path: Path, endpoint: str, personality: Personality
) -> None:
    agent = await start_agent(personality)
    script = upstream_turns(endpoint, clock_and_fetch(site), ANSWER, "Let me check.")
    response = await agent.ask(endpoint, message=scripted(tmp_path, QUESTION, script))
    assert response.status == 200, await response.text()
    assert response.headers["X-Bridge-Backend"] == "upstream"
    body = await response.json()
    assert (body["answer"], body["finish_reason"], body["model"]) == (ANSWER, "stop", agent.model)
    clock, fetch = body["steps"]
    assert (clock["tool"], clock["status"], clock["arguments"]) == ("time_now", "ok", {"timezone": "Asia/Seoul"})
    assert clock["result"]["utc_offset"] == "+09:00"
    seoul_now = datetime.fromisoformat(clock["result"]["iso"])
    assert abs(seoul_now - datetime.now(seoul_now.tzinfo)) < timedelta(minutes=5)
    assert (fetch["tool"], fetch["status"], fetch["result"]["status"], fetch["result"]["body"]) == ("http_request", "ok", 200, "service is up")
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert [(s.method, s.path) for s in site.seen] == [("GET", "/status")]
    assert "Authorization" not in site.seen[0].headers and canary.seen == []
    # Three model turns; each later one carries the whole conversation so far and the new results.
    first, second, third = await agent.turns()
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert third["messages"][: len(second["messages"])] == second["messages"]
    if endpoint == "/api/chat":
        assert [t["function"]["name"] for t in first["tools"]] == ["time_now", "http_request"]
        ((clock_call, clock_result),) = answered_calls(second)
        ((fetch_call, fetch_result),) = answered_calls(third)
        assert (clock_call["function"]["name"], fetch_call["function"]["name"]) == ("time_now", "http_request")
        assert '"utc_offset": "+09:00"' in clock_result["content"] and "service is up" in fetch_result["content"]
        assert second["messages"][-2]["content"] == "Let me check."  # the text beside the call stays
        assert clock_call["id"] != fetch_call["id"]
        if personality in NATIVE_ID_PREFIX:  # the server's own ids go back to it
            assert clock_call["id"].startswith(NATIVE_ID_PREFIX[personality])
    else:
        assert not any("tools" in turn for turn in (first, second, third))
        assert "Action: time_now" in second["messages"][-2]["content"]
        clock_seen, fetch_seen = second["messages"][-1], third["messages"][-1]
        assert clock_seen["role"] == fetch_seen["role"] == "user"
        assert clock_seen["content"].startswith("Observation: {") and '"utc_offset": "+09:00"' in clock_seen["content"]
        assert fetch_seen["content"].startswith("Observation: {") and "service is up" in fetch_seen["content"]


@pytest.mark.parametrize("personality", ["vllm", "llama_cpp_python"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_streaming_sends_calls_steps_text_and_the_answer(
    start_agent: StartAgent, site: Site, tmp_path: Path, endpoint: str, personality: Personality
) -> None:
    agent = await start_agent(personality)
    script = upstream_turns(endpoint, clock_and_fetch(site), ANSWER, "Let me check.")
    response = await agent.ask(endpoint, message=scripted(tmp_path, QUESTION, script), stream=True)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = await named_events(response)
    names = [name for name, _ in events]
    assert names[-1] == "answer" and names.count("answer") == 1
    tools = [(name, data["step"], data["tool"]) for name, data in events if name in ("call", "step")]
    assert tools == [("call", 1, "time_now"), ("step", 1, "time_now"), ("call", 2, "http_request"), ("step", 2, "http_request")]
    last_step = names.index("step", names.index("call", 2))
    answer_text = "".join(data["text"] for name, data in events[last_step:] if name == "text")
    assert answer_text == ANSWER and len([n for n in names[last_step:] if n == "text"]) > 1  # it arrived in pieces
    texts = [data["text"] for name, data in events if name == "text"]
    if endpoint == "/api/chat":  # text beside a call streams too; markup never does
        assert "".join(data["text"] for name, data in events[: names.index("call")] if name == "text").strip() == "Let me check."
    assert not any("<tool_call>" in t or "Action:" in t for t in texts)
    final = events[-1][1]
    assert final["answer"] == ANSWER and final["finish_reason"] == "stop"
    assert [s["tool"] for s in final["steps"]] == ["time_now", "http_request"]
    assert final["steps"][1]["result"]["body"] == "service is up"
    assert final["usage"]["total_tokens"] > 0
    assert len(await agent.turns()) == 3


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_the_step_limit_ends_a_model_that_never_stops_calling(
    start_agent: StartAgent, tmp_path: Path, endpoint: str
) -> None:
    agent = await start_agent("vllm", AGENT_MAX_STEPS="3")
    forever = upstream_turns(endpoint, [("time_now", {"timezone": "UTC"})], "never reached")[:1]  # the last item repeats
    response = await agent.ask(endpoint, message=scripted(tmp_path, "Loop.", forever))
    body = await response.json()
    assert response.status == 200
    assert (body["finish_reason"], body["answer"], len(body["steps"])) == ("max_steps", "", 3)
    # Three turns whose calls ran, one whose call did not, and the last word after being told so.
    sent = await agent.turns()
    assert len(sent) == 5 and "not run: the limit of 3 tool runs for this request" in json.dumps(sent[-1]["messages"])
    await agent.upstream.clear()
    lowered = await agent.ask(endpoint, message=scripted(tmp_path, "Loop.", forever), max_steps=1)
    lowered_body = await lowered.json()
    assert [len(lowered_body["steps"]), lowered_body["finish_reason"]] == [1, "max_steps"]
    assert len(await agent.turns()) == 3
    too_many = await agent.ask(endpoint, message="Loop.", max_steps=4)
    assert too_many.status == 400 and (await too_many.json())["error"]["param"] == "max_steps"
    assert len(await agent.turns()) == 3  # refused before the model was asked


@pytest.mark.parametrize("personality", ["vllm", "llama_cpp_python"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_bad_arguments_are_observations_and_the_model_recovers(
    start_agent: StartAgent, site: Site, tmp_path: Path, endpoint: str, personality: Personality
) -> None:
    agent = await start_agent(personality)
    calls: list[tuple[str, Any]] = [
        ("http_request", {"url": site.url("/status"), "method": "FETCH", "verb": "GET"}),
        ("time_now", {"timezone": "Mars/Olympus"}),
    ]
    if endpoint == "/api/agent_chat" or TOOL_STYLE[personality] == "native":
        # A native call (or an action) may name an unknown tool or carry broken JSON; Hermes markup
        # that does either stays text for the converter, so only the first two are calls there.
        calls += [("no_such_tool", {}), ("time_now", '{"timezone": "Asia/Seoul"')]
    response = await agent.ask(endpoint, message=scripted(tmp_path, "Try.", upstream_turns(endpoint, calls, "Sorry, I could not.")))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["answer"], body["finish_reason"]) == ("Sorry, I could not.", "stop")
    steps = body["steps"]
    assert [s["status"] for s in steps] == ["invalid_arguments", "error", "unknown_tool", "invalid_arguments"][: len(calls)]
    assert "arguments.method: 'FETCH' is not one of ['GET'," in steps[0]["result"]["error"]
    assert "'verb' was unexpected" in steps[0]["result"]["error"]
    assert "unknown time zone 'Mars/Olympus'" in steps[1]["result"]["error"]
    if len(calls) == 4:
        assert "there is no tool named 'no_such_tool'; the tools are: time_now, http_request" in steps[2]["result"]["error"]
        assert steps[3]["arguments"] == '{"timezone": "Asia/Seoul"' and "not valid JSON" in steps[3]["result"]["error"]
    assert site.seen == []
    turns = await agent.turns()
    assert len(turns) == len(calls) + 1
    # Every error went back to the model in the turn after its call.
    for turn, step in zip(turns[1:], steps, strict=True):
        if endpoint == "/api/chat":
            ((_, result),) = answered_calls(turn)
            seen = result["content"]
        else:
            seen = turn["messages"][-1]["content"].removeprefix("Observation: ")
        assert json.loads(seen) == step["result"]


@pytest.mark.parametrize("personality", ["vllm", "llama_cpp_python"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_refused_hosts_are_observations_and_never_contacted(
    start_agent: StartAgent, site: Site, canary: Site, tmp_path: Path, endpoint: str, personality: Personality
) -> None:
    agent = await start_agent(personality)
    calls: list[tuple[str, Any]] = [
        ("http_request", {"url": canary.url("/status")}),
        ("http_request", {"url": f"http://127.0.0.3:{site.server.port}/status"}),
        ("http_request", {"url": site.url(f"/redirect?to={canary.url('/status')}")}),
    ]
    response = await agent.ask(endpoint, message=scripted(tmp_path, "Fetch.", upstream_turns(endpoint, calls, "Not allowed.")))
    body = await response.json()
    assert response.status == 200 and body["answer"] == "Not allowed."
    loopback, unlisted, redirected = body["steps"]
    assert loopback["status"] == "refused" and "resolves to 127.0.0.2, a loopback address" in loopback["result"]["error"]
    assert unlisted["status"] == "refused" and "not on the operator's allowlist (AGENT_HTTP_ALLOW)" in unlisted["result"]["error"]
    assert redirected["status"] == "refused" and "127.0.0.2" in redirected["result"]["error"]
    assert canary.seen == [] and [s.path.split("?")[0] for s in site.seen] == ["/redirect"]
    last = (await agent.turns())[-1]
    seen = answered_calls(last)[0][1]["content"] if endpoint == "/api/chat" else last["messages"][-1]["content"]
    assert "127.0.0.2" in seen and "loopback" in seen


async def test_broken_call_arguments_in_history_reach_a_server_that_refuses_tool_history(
    make_client: MakeClient, agent_config: dict[str, str], tmp_path: Path
) -> None:
    # The model's own malformed arguments stay in the history (so it sees its mistake); when the
    # server refuses tool history, that call is written as text in the model's markup.
    async with running_upstream_server("vllm", reject_tool_history=True) as base_url, aiohttp.ClientSession() as http:
        client = await make_client(config={**agent_config, "SERVICE": "upstream", "BACKEND_URL": base_url})
        upstream = Upstream(base_url, "vllm", http)
        script = [{"tool_call": "time_now", "arguments": '{"timezone": "Asia/Seoul"'}, "done"]
        response = await client.post("/api/chat", json={"model": upstream.model, "message": scripted(tmp_path, "Time?", script)})
        assert response.status == 200, await response.text()
        body = await response.json()
        assert body["answer"] == "done" and [s["status"] for s in body["steps"]] == ["invalid_arguments"]
        last = (await upstream.requests())[-1]["body"]["messages"]
        written = [str(m.get("content")) for m in last if m["role"] == "assistant"]
        assert any("<tool_call>" in w and "time_now" in w and "Asia/Seoul" in w for w in written), written
        assert all(m["role"] != "tool" for m in last)
