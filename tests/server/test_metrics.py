"""GET /metrics after real requests through the fake CLIs, read back with Prometheus' own text parser."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from server.middleware.auth import key_fingerprint
from tests.conftest import MakeClient, scenario

KEY = "sk-metrics-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}


def chat(prompt: str, model: str = "copilot/gpt-5.4", stream: bool = False) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": prompt}]}


async def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample as (name, labels) → value, parsed from the exposition text."""
    resp = await client.get("/metrics", headers=AUTH)
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await resp.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_timings_tokens_and_cost_after_real_requests(make_client: MakeClient) -> None:
    client = await make_client(api_keys=(KEY,))
    plain = await client.post("/v1/chat/completions", json=chat(scenario("ok")), headers=AUTH)
    assert plain.status == 200
    plain_usage = (await plain.json())["usage"]
    streamed = await client.post("/v1/chat/completions", json=chat(scenario("ok"), stream=True) | {
        "stream_options": {"include_usage": True}}, headers=AUTH)
    assert streamed.status == 200 and (await streamed.read()).endswith(b"data: [DONE]\n\n")
    claude = await client.post("/v1/chat/completions", json=chat(scenario("ok"), model="claude/sonnet"), headers=AUTH)
    assert claude.status == 200
    claude_usage = (await claude.json())["usage"]
    rejected = await client.post("/v1/chat/completions", json=chat(scenario("model_error")), headers=AUTH)
    assert rejected.status == 404
    crashed = await client.post("/v1/chat/completions", json=chat(scenario("crash"), stream=True), headers=AUTH)
    assert crashed.status == 200 and b'"error"' in await crashed.read()  # an in-stream error
    unauthorized = await client.post("/v1/chat/completions", json=chat(scenario("ok")))
    assert unauthorized.status == 401

    samples = await scrape(client)
    copilot = {"backend": "copilot", "model": "copilot/gpt-5.4"}
    claude_labels = {"backend": "claude", "model": "claude/sonnet"}
    assert value(samples, "copilot_bridge_requests_total", **copilot, status="200") == 3  # two answers, one crash
    assert value(samples, "copilot_bridge_requests_total", **copilot, status="404") == 1
    assert value(samples, "copilot_bridge_requests_total", **claude_labels, status="200") == 1
    assert value(samples, "copilot_bridge_requests_total", backend="", model="", status="401") == 1
    assert value(samples, "copilot_bridge_request_errors_total", **copilot, code="model_not_found") == 1
    assert sum(v for (name, labels), v in samples.items()
               if name == "copilot_bridge_request_errors_total" and ("backend", "copilot") in labels) == 2
    assert value(samples, "copilot_bridge_request_errors_total", backend="", model="", code="invalid_api_key") == 1
    # Every copilot request that reached its backend was timed; the three that printed text have a first token.
    assert value(samples, "copilot_bridge_request_duration_seconds_count", **copilot) == 4
    assert value(samples, "copilot_bridge_time_to_first_token_seconds_count", **copilot) == 3
    assert 0 < value(samples, "copilot_bridge_time_to_first_token_seconds_sum", **copilot) < value(
        samples, "copilot_bridge_request_duration_seconds_sum", **copilot)
    assert value(samples, "copilot_bridge_time_to_first_token_seconds_bucket", **copilot, le="+Inf") == 3

    key = key_fingerprint(KEY)
    assert KEY not in str(samples)
    # The two answered copilot requests had the same prompt and reply: twice the plain one's usage.
    assert value(samples, "copilot_bridge_tokens_total", api_key=key, backend="copilot", kind="prompt") == 2 * plain_usage["prompt_tokens"]
    assert value(samples, "copilot_bridge_tokens_total", api_key=key, backend="copilot",
                 kind="completion") == 2 * plain_usage["completion_tokens"]
    premium = ("copilot_bridge_premium_requests_total", frozenset({("api_key", key), ("backend", "copilot")}))
    assert samples[premium] == 2 * plain_usage["premium_requests"]  # as reported (the fake reports 0)
    assert value(samples, "copilot_bridge_tokens_total", api_key=key, backend="claude", kind="prompt") == claude_usage["prompt_tokens"]
    assert claude_usage["cost_usd"] > 0
    assert abs(value(samples, "copilot_bridge_cost_usd_total", api_key=key, backend="claude") - claude_usage["cost_usd"]) < 1e-12

    assert value(samples, "copilot_bridge_cli_processes", state="running") == 0
    assert ("copilot_bridge_cli_processes", frozenset({("state", "queued")})) in samples
    for backend in ("copilot", "claude"):
        assert ("copilot_bridge_warm_cli_processes", frozenset({("backend", backend)})) in samples  # 0: no pool here


async def test_metrics_need_a_key_and_count_neither_scrapes_nor_probes(make_client: MakeClient) -> None:
    client = await make_client(api_keys=(KEY,))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"x-api-key": "wrong"})).status == 401
    assert (await client.get("/health")).status in (200, 503)  # still open
    await client.get("/v1/models", headers=AUTH)
    await scrape(client)
    samples = await scrape(client)
    counted = {labels: v for (name, labels), v in samples.items() if name == "copilot_bridge_requests_total"}
    assert counted == {frozenset({("backend", ""), ("model", ""), ("status", "200")}): 1}  # scrapes and probes are not traffic


async def test_running_and_queued_cli_processes(make_client: MakeClient) -> None:
    client = await make_client(api_keys=(KEY,), max_concurrent_clis=1)
    slow = chat(scenario("slow", delay=0.6, chunks=3))
    first = asyncio.ensure_future(client.post("/v1/chat/completions", json=slow, headers=AUTH))
    await asyncio.sleep(0.4)
    second = asyncio.ensure_future(client.post("/v1/chat/completions", json=slow, headers=AUTH))
    await asyncio.sleep(0.3)
    samples = await scrape(client)
    assert value(samples, "copilot_bridge_cli_processes", state="running") == 1
    assert value(samples, "copilot_bridge_cli_processes", state="queued") == 1
    assert [r.status for r in await asyncio.gather(first, second)] == [200, 200]
