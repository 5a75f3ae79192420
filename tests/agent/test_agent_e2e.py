"""Both agent endpoints end to end: fake CLIs play the model, the bridge runs the tools.

The model calls time_now, then http_request against a local site, then answers; and the loop's
limits hold: the step limit, bad arguments, a refused host, a redirect to a refused host.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.agent.script import DIALECTS, named_events, scripted, turns
from tests.agent.sites import Site
from tests.conftest import MakeClient, cli_records

ENDPOINTS = ["/api/chat", "/api/agent_chat"]
MODELS = sorted(DIALECTS)
QUESTION = "What time is it in Seoul, and is the status page up?"
ANSWER = "It is evening in Seoul, and the status page is up."


@pytest.fixture
async def agent(make_client: MakeClient, agent_config: dict[str, str]) -> TestClient:
    return await make_client(config=agent_config)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_time_then_http_then_an_answer(
    agent: TestClient, site: Site, canary: Site, tmp_path: Path, record_dir: Path, endpoint: str, model: str
) -> None:
    script = turns(endpoint, model, [("time_now", {"timezone": "Asia/Seoul"}), ("http_request", {"url": site.url("/status")})], ANSWER, "Let me check. ")
    response = await agent.post(endpoint, json={"message": scripted(tmp_path, QUESTION, script), "model": model})
    assert response.status == 200, await response.text()
    assert response.headers["X-Bridge-Backend"] == model.split("/")[0]
    body = await response.json()
    assert (body["answer"], body["finish_reason"], body["model"]) == (ANSWER, "stop", model)
    clock, fetch = body["steps"]
    assert (clock["tool"], clock["status"], clock["arguments"]) == ("time_now", "ok", {"timezone": "Asia/Seoul"})
    assert clock["result"]["utc_offset"] == "+09:00"
    seoul_now = datetime.fromisoformat(clock["result"]["iso"])
    assert abs(seoul_now - datetime.now(seoul_now.tzinfo)) < timedelta(minutes=5)
    assert (fetch["tool"], fetch["status"], fetch["result"]["status"], fetch["result"]["body"]) == ("http_request", "ok", 200, "service is up")
    assert all(isinstance(s["ms"], float) for s in body["steps"])
    if endpoint == "/api/agent_chat":
        assert (clock["thought"], fetch["thought"]) == ("I should use time_now.", "I should use http_request.")
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # The site got exactly the request the model asked for, and nothing of the client's credentials.
    assert [(s.method, s.path) for s in site.seen] == [("GET", "/status")]
    assert "Authorization" not in site.seen[0].headers
    assert canary.seen == []
    # Three model turns; each after the first read the results of the tools before it.
    records = cli_records(record_dir)
    assert len(records) == 3
    texts = sorted((r["prompt"] for r in records), key=len)
    assert "+09:00" not in texts[0] and "+09:00" in texts[1] and "service is up" in texts[2]
    marker = "### Tool result: http_request" if endpoint == "/api/chat" else "Observation: {"
    assert marker in texts[2]
    # The CLIs' own agent tools stay off: this loop is the bridge's.
    for record in records:
        argv = record["argv"]
        assert ("--available-tools" in argv and argv[argv.index("--available-tools") + 1] == "__none__") or (
            "--tools" in argv and argv[argv.index("--tools") + 1] == ""
        )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_streaming_sends_calls_steps_text_and_the_answer(
    agent: TestClient, site: Site, tmp_path: Path, endpoint: str
) -> None:
    model = "copilot/gpt-5.4"
    script = turns(endpoint, model, [("time_now", {"timezone": "Asia/Seoul"}), ("http_request", {"url": site.url("/status")})], ANSWER, "Let me check. ")
    response = await agent.post(endpoint, json={"message": scripted(tmp_path, QUESTION, script), "model": model, "stream": True})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = await named_events(response)
    names = [name for name, _ in events]
    assert names[-1] == "answer" and names.count("answer") == 1
    tools = [(name, data["step"], data["tool"]) for name, data in events if name in ("call", "step")]
    assert tools == [("call", 1, "time_now"), ("step", 1, "time_now"), ("call", 2, "http_request"), ("step", 2, "http_request")]
    texts = [data["text"] for name, data in events if name == "text"]
    last_step = names.index("step", names.index("call", 2))
    answer_text = "".join(data["text"] for name, data in events[last_step:] if name == "text")
    assert answer_text == ANSWER and len([n for n in names[last_step:] if n == "text"]) > 1  # it arrived in pieces
    if endpoint == "/api/chat":  # text beside a call streams too; markup never does
        assert "".join(data["text"] for name, data in events[: names.index("call")] if name == "text").strip() == "Let me check."
    assert not any("<tool_call>" in t or "Action:" in t for t in texts)
    final = events[-1][1]
    assert final["answer"] == ANSWER and final["finish_reason"] == "stop"
    assert [s["tool"] for s in final["steps"]] == ["time_now", "http_request"]
    assert final["steps"][1]["result"]["body"] == "service is up"
    assert final["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_the_step_limit_ends_a_model_that_never_stops_calling(
    make_client: MakeClient, agent_config: dict[str, str], tmp_path: Path, record_dir: Path, endpoint: str
) -> None:
    model = "claude/sonnet"
    forever = turns(endpoint, model, [("time_now", {"timezone": "UTC"})], "never reached")[:1]  # the last reply repeats
    client = await make_client(config={**agent_config, "AGENT_MAX_STEPS": "3"})
    response = await client.post(endpoint, json={"message": scripted(tmp_path, "Loop.", forever), "model": model})
    body = await response.json()
    assert response.status == 200
    assert (body["finish_reason"], body["answer"], len(body["steps"])) == ("max_steps", "", 3)
    assert len(cli_records(record_dir)) == 5  # three turns whose calls ran, one whose call did not, the last word
    # A model that answers once told the limit was reached: that answer, still marked max_steps.
    answers = turns(endpoint, model, [("time_now", {"timezone": "UTC"})] * 4, "It is late; that is all I know.")
    told = await (await client.post(endpoint, json={"message": scripted(tmp_path, "Loop.", answers), "model": model})).json()
    assert (told["finish_reason"], told["answer"], len(told["steps"])) == ("max_steps", "It is late; that is all I know.", 3)
    lowered = await client.post(endpoint, json={"message": scripted(tmp_path, "Loop.", forever), "model": model, "max_steps": 1})
    assert [len((await lowered.json())["steps"]), (await lowered.json())["finish_reason"]] == [1, "max_steps"]
    too_many = await client.post(endpoint, json={"message": "Loop.", "model": model, "max_steps": 4})
    assert too_many.status == 400 and (await too_many.json())["error"]["param"] == "max_steps"


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_bad_arguments_are_observations_and_the_model_recovers(
    agent: TestClient, site: Site, tmp_path: Path, record_dir: Path, endpoint: str, model: str
) -> None:
    calls: list[tuple[str, Any]] = [
        ("http_request", {"url": site.url("/status"), "method": "FETCH", "verb": "GET"}),
        ("time_now", {"timezone": "Mars/Olympus"}),
    ]
    if endpoint == "/api/agent_chat":
        # Tool markup naming an unknown tool stays text for the converter; an action names it plainly.
        calls += [("no_such_tool", {}), ("time_now", "Asia/Seoul please")]  # the last is not JSON at all
    response = await agent.post(endpoint, json={"message": scripted(tmp_path, "Try.", turns(endpoint, model, calls, "Sorry, I could not.")), "model": model})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["answer"], body["finish_reason"]) == ("Sorry, I could not.", "stop")
    steps = body["steps"]
    assert [s["status"] for s in steps] == ["invalid_arguments", "error", "unknown_tool", "invalid_arguments"][: len(calls)]
    assert len(steps) == len(calls)
    assert "arguments.method: 'FETCH' is not one of ['GET'," in steps[0]["result"]["error"]
    assert "'verb' was unexpected" in steps[0]["result"]["error"]
    assert "unknown time zone 'Mars/Olympus'" in steps[1]["result"]["error"]
    if endpoint == "/api/agent_chat":
        assert "there is no tool named 'no_such_tool'; the tools are: time_now, http_request" in steps[2]["result"]["error"]
        assert steps[3]["arguments"] == "Asia/Seoul please" and "not valid JSON" in steps[3]["result"]["error"]
    assert site.seen == []
    last_prompt = max((r["prompt"] for r in cli_records(record_dir)), key=len)
    assert "'FETCH' is not one of" in last_prompt and "unknown time zone" in last_prompt  # the model read its errors


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_refused_host_is_an_observation_and_never_contacted(
    agent: TestClient, site: Site, canary: Site, tmp_path: Path, endpoint: str
) -> None:
    model = "copilot/gpt-5.4"
    calls: list[tuple[str, Any]] = [
        ("http_request", {"url": canary.url("/status")}),
        ("http_request", {"url": f"http://127.0.0.3:{site.server.port}/status"}),
    ]
    response = await agent.post(endpoint, json={"message": scripted(tmp_path, "Fetch.", turns(endpoint, model, calls, "Not allowed.")), "model": model})
    body = await response.json()
    assert response.status == 200 and body["answer"] == "Not allowed."
    loopback, unlisted = body["steps"]
    assert loopback["status"] == "refused" and "resolves to 127.0.0.2, a loopback address" in loopback["result"]["error"]
    assert unlisted["status"] == "refused" and "not on the operator's allowlist (AGENT_HTTP_ALLOW)" in unlisted["result"]["error"]
    assert canary.seen == [] and site.seen == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_redirect_to_a_refused_host_is_stopped_at_the_hop(
    agent: TestClient, site: Site, canary: Site, tmp_path: Path, endpoint: str
) -> None:
    model = "claude/sonnet"
    start = site.url(f"/redirect?to={canary.url('/status')}")
    script = turns(endpoint, model, [("http_request", {"url": start})], "The page redirects somewhere I may not go.")
    response = await agent.post(endpoint, json={"message": scripted(tmp_path, "Fetch.", script), "model": model})
    body = await response.json()
    assert response.status == 200 and body["finish_reason"] == "stop"
    (step,) = body["steps"]
    assert step["status"] == "refused" and "127.0.0.2" in step["result"]["error"] and "loopback" in step["result"]["error"]
    assert len(site.seen) == 1 and canary.seen == []
