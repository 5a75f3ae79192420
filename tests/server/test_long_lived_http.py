"""The HTTP suites again, in the long-lived modes, plus what only those modes promise.

Here the app runs the production default's machinery: Copilot on one headless server
(COPILOT_MODE=headless, with a GitHub token the fake accepts) and Claude from a pool warmed for
`sonnet`. The tests imported below run unchanged against it (pytest collects them here too,
with this module's fixtures); those that read one-shot runs' records stay in their own modules.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import MakeClient, cli_records, scenario
from tests.executors.backend_helpers import FAKE_GITHUB_TOKEN, pid_alive, wait_until
from tests.openapi.hooks import checked_session
from tests.operations.test_request_log import test_one_file_per_request_with_the_facts  # noqa: F401
from tests.server.sse_helpers import read_events
from tests.server.test_http_api import (  # noqa: F401
    test_bare_model_ids_follow_service_order,
    test_cli_errors_before_streaming_are_json,
    test_crash_mid_stream_is_an_in_stream_error,
    test_default_model_when_none_given,
    test_health_reports_each_backend,
    test_ignored_and_unknown_params_are_reported,
    test_missing_cli_is_spawn_error,
    test_model_rejected_by_cli_is_404,
    test_non_stream_completion,
    test_stream_wire_format,
    test_stream_without_include_usage_has_no_usage_chunk,
    test_validation_errors,
)
from tests.server.test_lifecycle import (  # noqa: F401
    test_full_queue_is_503,
    test_silent_cli_gets_the_stream_started_with_keepalives,
)
from tests.server.test_openai_sdk import (  # noqa: F401
    test_error_after_stream_started_raises_in_sdk,
    test_errors_map_to_sdk_exceptions,
    test_non_stream,
    test_stream_helper_accumulates,
    test_stream_with_usage,
)
from tests.server.responses.test_responses_sdk import (  # noqa: F401
    test_create_non_stream_and_retrieve,
    test_create_stream_raw_events,
    test_stream_helper_final_response,
    test_tool_round_trip_by_full_replay_streamed,
)
from tests.server.params.test_structured_sdk import test_the_sdk_parse_helpers_get_a_parsed_object  # noqa: F401
from tests.server.test_tool_calls_e2e import (  # noqa: F401
    test_conversion_switch_off_passes_markup_through,
    test_non_stream_tool_call_and_round_trip,
    test_parallel_calls_and_legacy_functions,
    test_schema_problems_are_reported_not_hidden,
    test_stream_tool_call_accumulates_like_the_sdk,
    test_unknown_tool_name_stays_text,
)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """The shared test settings, in the long-lived modes."""
    return {**settings_env, "COPILOT_MODE": "headless", "CLAUDE_MODE": "pool", "CLAUDE_POOL_MODELS": "sonnet"}


@pytest.fixture
def cli_env(cli_env: dict[str, str]) -> dict[str, str]:
    """A token the fake headless server accepts (one-shot runs need none)."""
    return {**cli_env, "COPILOT_GITHUB_TOKEN": FAKE_GITHUB_TOKEN}


def body(prompt: str, model: str = "copilot/gpt-5.4", stream: bool = True) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": prompt}]}


def sessions(record_dir: Path) -> dict[str, dict[str, Any]]:
    """The sessions of every headless server, warm-up sessions left out."""
    return {sid: s for r in cli_records(record_dir) for sid, s in (r.get("sessions") or {}).items()
            if s["prompts"] != ["warm-up"]}


async def warm(client: TestClient) -> dict[str, Any]:
    """/health once both backends have their warm processes."""
    for _ in range(300):
        health = await (await client.get("/health")).json()
        backends = health["backends"]
        if backends["copilot"]["warm"]["processes"] == 1 and backends["claude"]["warm"]["ready"] == 1:
            return dict(health)
        await asyncio.sleep(0.05)
    raise AssertionError(f"not warm: {health}")


async def test_health_shows_the_warm_processes(client: TestClient) -> None:
    health = await warm(client)
    copilot, claude = health["backends"]["copilot"], health["backends"]["claude"]
    assert copilot["mode"] == "headless" and claude["mode"] == "pool"
    resp = await client.post("/v1/chat/completions", json=body("hi", stream=False))
    assert resp.status == 200
    copilot = (await (await client.get("/health")).json())["backends"]["copilot"]["warm"]
    assert copilot["state"] == "ready" and copilot["restarts"] == 0
    assert copilot["server"]["sessions_served"] == 1 and copilot["server"]["age_s"] >= 0
    assert claude["warm"]["idle_by_model"] == {"sonnet": 1} and claude["warm"]["oldest_age_s"] >= 0


async def test_a_disconnect_aborts_and_deletes_the_session(
    client: TestClient, record_dir: Path, cli_env: dict[str, str]
) -> None:
    await warm(client)
    async with checked_session() as session:
        resp = await session.post(client.make_url("/v1/chat/completions"), json=body(scenario("slow", delay=0.5)))
        assert resp.status == 200
        await resp.content.readuntil(b"Hello")
        resp.close()  # the client goes away mid-answer
    await wait_until(lambda: any(s["deleted"] for s in sessions(record_dir).values()), 5)
    (session_record,) = sessions(record_dir).values()
    assert session_record["aborted"] is True and session_record["deleted"] is True
    state = Path(cli_env["HOME"]) / ".copilot" / "session-state"
    await wait_until(lambda: [p for p in state.iterdir() if not p.name.startswith(".")] == [], 5)
    assert not Path(session_record["create"]["workingDirectory"]).exists()  # the request's temp dir
    (server,) = [r for r in cli_records(record_dir) if r.get("mode") == "headless"]
    assert pid_alive(server["pid"])  # the shared server goes on
    resp = await client.post("/v1/chat/completions", json=body("again", stream=False))
    assert (await resp.json())["choices"][0]["message"]["content"] == "Hello from mock."


async def test_a_disconnect_stops_the_pooled_claude_group(client: TestClient, record_dir: Path) -> None:
    await warm(client)
    async with checked_session() as session:
        resp = await session.post(client.make_url("/v1/chat/completions"), json=body(scenario("hang_hard"), "claude/sonnet"))
        await resp.content.readuntil(b"Hello")
        await wait_until(lambda: any(r.get("child_pid") for r in cli_records(record_dir)), 3)
        (record,) = [r for r in cli_records(record_dir) if r.get("cli") == "claude" and r["prompt"] is not None]
        resp.close()
    await wait_until(lambda: not pid_alive(record["pid"]) and not pid_alive(record["child_pid"]), 3)


async def test_a_timeout_mid_stream_aborts_the_session(make_client: MakeClient, record_dir: Path) -> None:
    client = await make_client(request_timeout_ms=800)
    await warm(client)
    resp = await client.post("/v1/chat/completions", json=body(scenario("hang")))
    raw = (await resp.read()).decode()
    assert '"code":"timeout"' in raw and raw.endswith("data: [DONE]\n\n")
    await wait_until(lambda: any(s["deleted"] for s in sessions(record_dir).values()), 5)
    assert [s["aborted"] for s in sessions(record_dir).values()] == [True]


async def test_a_server_crash_fails_the_requests_in_flight_and_the_next_one_works(client: TestClient) -> None:
    await warm(client)
    slow = asyncio.ensure_future(client.post("/v1/chat/completions", json=body("[[fake:delay=0.4]] [[fake:chunks=5]]", stream=False)))
    await asyncio.sleep(0.2)
    crashed = await client.post("/v1/chat/completions", json=body(scenario("crash")))
    events = await read_events(crashed)
    assert events[-2]["error"]["code"] == "copilot_execution_error"
    assert "exit status -9" in events[-2]["error"]["message"]
    other = await asyncio.wait_for(slow, 10)
    assert other.status == 503 and (await other.json())["error"]["code"] == "copilot_execution_error"
    for _ in range(3):
        resp = await client.post("/v1/chat/completions", json=body("after", stream=False))
        assert resp.status == 200 and (await resp.json())["choices"][0]["message"]["content"] == "Hello from mock."
    warm_copilot = (await (await client.get("/health")).json())["backends"]["copilot"]["warm"]
    assert warm_copilot["restarts"] == 1 and warm_copilot["state"] == "ready"
