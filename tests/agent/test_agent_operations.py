"""The agent routes under the same keys, rate limits, request logs and timeouts as the OpenAI routes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.agent.script import call, named_events, scripted, turns
from tests.agent.sites import Site
from tests.conftest import MakeClient, cli_records

MODEL = "copilot/gpt-5.4"
KEY = "sk-bridge-test-key-0123456789"


def log_records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((tmp_path / "logs" / "requests").rglob("*.json"))]


async def test_the_agent_is_off_until_tools_are_enabled(make_client: MakeClient) -> None:
    client = await make_client()
    for path in ("/api/chat", "/api/agent_chat"):
        response = await client.post(path, json={"message": "hi"})
        assert response.status == 404
        error = (await response.json())["error"]
        assert error["code"] == "agent_disabled" and "AGENT_TOOLS" in error["message"]
    listing = await client.get("/api/tools")
    assert listing.status == 200 and (await listing.json())["tools"] == []


async def test_tools_are_listed_with_their_schemas(make_client: MakeClient, agent_config: dict[str, str]) -> None:
    client = await make_client(config={**agent_config, "AGENT_MAX_STEPS": "4"})
    body = await (await client.get("/api/tools")).json()
    assert body["max_steps"] == 4
    assert [(t["name"], t["source"]) for t in body["tools"]] == [("time_now", "builtin"), ("http_request", "builtin")]
    http = body["tools"][1]
    assert http["parameters"]["required"] == ["url"] and "GET" in http["parameters"]["properties"]["method"]["enum"]
    assert body["tools"][0]["parameters"]["properties"]["timezone"]["type"] == "string"


@pytest.mark.parametrize(
    ("payload", "status", "code", "param"),
    [
        ({}, 400, "missing_message", "message"),
        ({"message": "  "}, 400, "missing_message", "message"),
        ({"message": "hi", "model": "nope/none"}, 404, "model_not_found", "model"),
        ({"message": "hi", "stream": "yes"}, 400, "invalid_request", "stream"),
        ({"message": "hi", "max_steps": 0}, 400, "invalid_request", "max_steps"),
        ({"message": "hi", "history": [{"role": "wizard", "content": "x"}]}, 400, "invalid_request", "history[0].role"),
        ({"message": "hi", "history": "earlier"}, 400, "invalid_request", "history"),
    ],
)
async def test_bad_requests_are_openai_errors(
    make_client: MakeClient, agent_config: dict[str, str], record_dir: Path, payload: dict[str, Any], status: int, code: str, param: str | None
) -> None:
    client = await make_client(config=agent_config)
    response = await client.post("/api/chat", json=payload)
    assert response.status == status
    error = (await response.json())["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert cli_records(record_dir) == []


async def test_history_reaches_the_model(make_client: MakeClient, agent_config: dict[str, str], record_dir: Path) -> None:
    client = await make_client(config=agent_config)
    history = [{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": "Hello Ada."}]
    response = await client.post("/api/chat", json={"message": "What is my name? [[fake:reply=Ada.]]", "model": MODEL, "history": history})
    assert (await response.json())["answer"] == "Ada."
    (record,) = cli_records(record_dir)
    assert "### User\nMy name is Ada." in record["prompt"] and "### Assistant\nHello Ada." in record["prompt"]


async def test_keys_are_required_and_never_reach_a_tool_target(
    make_client: MakeClient, agent_config: dict[str, str], site: Site, tmp_path: Path
) -> None:
    client = await make_client(config={**agent_config, "API_KEY": KEY})
    for method, path in (("POST", "/api/chat"), ("POST", "/api/agent_chat"), ("GET", "/api/tools")):
        response = await client.request(method, path, json={"message": "hi"})
        assert response.status == 401 and (await response.json())["error"]["code"] == "invalid_api_key"
    script = [
        call(MODEL, "http_request", {"url": site.url("/status")}),
        call(MODEL, "http_request", {"url": site.url("/status"), "headers": {"Authorization": f"Bearer {KEY}"}}),
        "Done.",
    ]
    response = await client.post(
        "/api/chat", json={"message": scripted(tmp_path, "Fetch.", script), "model": MODEL}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status == 200
    plain, leaking = (await response.json())["steps"]
    assert plain["status"] == "ok" and leaking["status"] == "refused"
    assert "one of the bridge's own credentials" in leaking["result"]["error"]
    (seen,) = site.seen  # only the first request went out, and without the client's key
    assert "Authorization" not in seen.headers and KEY not in json.dumps(seen.headers)


async def test_rate_limits_count_agent_requests(make_client: MakeClient, agent_config: dict[str, str]) -> None:
    client = await make_client(config={**agent_config, "RATE_LIMIT_MAX": "1", "RATE_LIMIT_WINDOW": "60000"})
    first = await client.post("/api/chat", json={"message": "hi [[fake:reply=ok]]", "model": MODEL})
    assert first.status == 200 and first.headers["x-ratelimit-limit-requests"] == "1"
    second = await client.post("/api/agent_chat", json={"message": "hi", "model": MODEL})
    assert second.status == 429 and int(second.headers["Retry-After"]) >= 1
    assert (await second.json())["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize("bodies", [False, True])
async def test_the_request_log_has_the_model_usage_and_every_tool_run(
    make_client: MakeClient, agent_config: dict[str, str], site: Site, tmp_path: Path, bodies: bool
) -> None:
    body_logging = {"LOG_REQUEST_BODY": str(bodies).lower(), "LOG_RESPONSE_BODY": str(bodies).lower()}
    client = await make_client(config={**agent_config, **body_logging})
    script = turns("/api/chat", MODEL, [("time_now", {"timezone": "UTC"}), ("http_request", {"method": "POST", "url": site.url("/echo"), "body": "ping"})], "Done.")
    response = await client.post("/api/chat", json={"message": scripted(tmp_path, "Go.", script), "model": MODEL}, headers={"X-Request-Id": "req_agentlog"})
    reply = await response.json()
    await client.close()  # flushes the request log
    (record,) = log_records(tmp_path)
    assert (record["path"], record["status"], record["model"], record["backend"]) == ("/api/chat", 200, MODEL, "copilot")
    assert record["usage"] == reply["usage"] and record["messages"] == 1 and record["stream"] is False
    clock, post = record["tool_runs"]
    assert (clock["tool"], clock["status"], clock["arguments"]) == ("time_now", "ok", {"timezone": "UTC"})
    assert post["tool"] == "http_request" and post["duration_ms"] >= 0
    if bodies:
        assert post["arguments"]["body"] == "ping" and post["result"]["body"] == '{"method": "POST", "body": "ping"}'
        assert record["response_body"]["answer"] == "Done."
    else:
        assert post["arguments"]["body"] == "[4 characters not logged]" and "result" not in post
        assert "response_body" not in record and "request_body" not in record


async def test_the_request_timeout_bounds_the_whole_loop(
    make_client: MakeClient, agent_config: dict[str, str], site: Site, tmp_path: Path
) -> None:
    client = await make_client(config={**agent_config, "AGENT_HTTP_TIMEOUT": "30000", "REQUEST_TIMEOUT": "6000"})
    script = [call(MODEL, "http_request", {"url": site.url("/slow?s=30")}), "never"]
    message = scripted(tmp_path, "Wait.", script)
    plain, streamed = await asyncio.gather(  # side by side: each waits out the whole timeout
        client.post("/api/chat", json={"message": message, "model": MODEL}),
        client.post("/api/chat", json={"message": message, "model": MODEL, "stream": True}),
    )
    assert plain.status == 504 and (await plain.json())["error"]["code"] == "timeout"
    assert streamed.status == 200
    events = await named_events(streamed)
    assert [name for name, _ in events] == ["call", "error"]
    assert events[-1][1]["error"]["code"] == "timeout"


async def test_a_slow_tool_target_is_an_observation_within_its_own_timeout(
    make_client: MakeClient, agent_config: dict[str, str], site: Site, tmp_path: Path
) -> None:
    client = await make_client(config={**agent_config, "AGENT_HTTP_TIMEOUT": "500"})
    script = [call(MODEL, "http_request", {"url": site.url("/slow?s=30")}), "It did not answer in time."]
    response = await client.post("/api/chat", json={"message": scripted(tmp_path, "Wait.", script), "model": MODEL})
    body = await response.json()
    assert response.status == 200 and body["answer"] == "It did not answer in time."
    assert body["steps"][0]["status"] == "error" and "AGENT_HTTP_TIMEOUT" in body["steps"][0]["result"]["error"]
