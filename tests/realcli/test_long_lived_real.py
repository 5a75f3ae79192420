"""The real `copilot` and `claude` from npm in the long-lived modes, through the bridge.

Copilot answers on one `copilot --headless --stdio`, Claude from a pool warmed for `sonnet`;
both talk to the fake model server, whose request log shows exactly what the model received.
The one-shot tests of test_real_clis.py run here again (imported, with this module's settings).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from executors.cli.transcript import DEFAULT_SYSTEM_PROMPT
from tests.conftest import MakeClient
from tests.openapi.hooks import checked_session
from tests.processes import processes_with
from tests.realcli.conftest import real_cli
from tests.realcli.test_real_clis import (  # noqa: F401
    real_sdk,
    test_real_cli_image_reaches_the_model,
    test_real_cli_model_rejected_is_404,
    test_real_cli_non_stream_and_system_prompt,
    test_real_cli_reasoning_streams_apart_and_the_effort_reaches_the_model,
    test_real_cli_stream_with_usage,
    test_real_cli_tool_call_round_trip,
)
from tests.server.params.media_helpers import RED, THINKING, data_url

pytestmark = pytest.mark.realcli
CLAUDE_SDK_PREFIX = "You are a Claude agent, built on Anthropic's Claude Agent SDK."
MODELS = {"copilot": "gpt-5.4", "claude": "sonnet"}
LONG_LIVED = {"COPILOT_MODE": "headless", "CLAUDE_MODE": "pool", "CLAUDE_POOL_MODELS": "sonnet"}


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    """The shared test settings, in the long-lived modes."""
    return {**settings_env, **LONG_LIVED}


async def bridge(make_client: MakeClient, real_env: dict[str, str], **overrides: Any) -> TestClient:
    client = await make_client(
        env=real_env, config={"COPILOT_CLI_PATH": real_cli("copilot"), "CLAUDE_CLI_PATH": real_cli("claude")},
        request_timeout_ms=90_000, **overrides)
    await warm(client)
    return client


async def health(client: TestClient) -> dict[str, Any]:
    return dict(await (await client.get("/health")).json())


async def warm(client: TestClient, timeout: float = 90) -> dict[str, Any]:
    """/health once the headless server has warmed up and the pool has its `sonnet`."""
    for _ in range(int(timeout / 0.1)):
        backends = (await health(client))["backends"]
        server = backends["copilot"]["warm"]["server"]
        if server and server["warmed"] and backends["claude"]["warm"]["ready"] == 1:
            return dict(backends)
        await asyncio.sleep(0.1)
    raise AssertionError(f"not warm: {backends}")


def cli_processes(marker: str, cli: str) -> set[int]:
    """Live processes of one CLI (by its command line) whose environment holds the test's marker."""
    found = set()
    for pid in processes_with(marker):
        try:
            if cli.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


async def model_requests(base_url: str) -> list[dict[str, Any]]:
    """The chat requests the model server received (not Claude's title side request)."""
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/_fake/requests") as resp:
        recorded: list[dict[str, Any]] = await resp.json()
    return [r["body"] for r in recorded if r["method"] == "POST" and isinstance(r["body"], dict)
            and "messages" in r["body"] and not (r["body"].get("output_config") or {}).get("format")]


def request_with(bodies: list[dict[str, Any]], tag: str) -> dict[str, Any]:
    (found,) = [b for b in bodies if tag in json.dumps(b["messages"])]
    return found


async def ask(client: TestClient, model: str, content: str | list[Any], system: str | None = None,
              **extra: Any) -> dict[str, Any]:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": content}]
    resp = await client.post("/v1/chat/completions", json={"model": model, "messages": messages, **extra})
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_the_model_sees_exactly_the_clients_system_prompt(
    make_client: MakeClient, real_env: dict[str, str], model_server: str
) -> None:
    client = await bridge(make_client, real_env)
    system = "EXACT-SYSTEM-7f3: answer briefly.\nSecond line."
    for cli in ("copilot", "claude"):
        answer = await ask(client, f"{cli}/{MODELS[cli]}", f"Say hi SYS-{cli} [[fake:reply=Fine.]]", system)
        assert answer["choices"][0]["message"]["content"] == "Fine."
        await warm(client)  # the pool's replacement is ready before the next request
        await ask(client, f"{cli}/{MODELS[cli]}", f"Say hi NONE-{cli} [[fake:reply=Fine.]]")
        await warm(client)
    bodies = await model_requests(model_server)
    copilot = request_with(bodies, "SYS-copilot")
    # Replace mode: the system message is the client's text and nothing else (no 8-22 KB agent prompt).
    assert copilot["messages"][0] == {"role": "system", "content": system}
    assert copilot["messages"][1]["role"] == "user" and copilot["messages"][1]["content"].endswith(
        "Say hi SYS-copilot [[fake:reply=Fine.]]")
    assert "tools" not in copilot or copilot["tools"] == []
    assert request_with(bodies, "NONE-copilot")["messages"][0] == {"role": "system", "content": DEFAULT_SYSTEM_PROMPT}
    # Claude Code puts two fixed blocks of its own first (a billing header line and one SDK line,
    # the same with --system-prompt-file); ours arrives as one block, exactly, and nothing else of ours.
    for tag, expected in (("SYS-claude", system), ("NONE-claude", DEFAULT_SYSTEM_PROMPT)):
        blocks = [b["text"] for b in request_with(bodies, tag)["system"]]
        assert blocks[0].startswith("x-anthropic-billing-header: cc_version=")
        assert blocks[1:] == [CLAUDE_SDK_PREFIX, expected]
    served = (await health(client))["backends"]
    assert served["copilot"]["warm"]["server"]["sessions_served"] == 2
    assert served["claude"]["warm"]["served_warm"] == 2 and served["claude"]["warm"]["cold_starts"] == 0


async def test_warm_processes_take_the_effort_and_the_image(
    make_client: MakeClient, real_env: dict[str, str], model_server: str
) -> None:
    # The pooled claude was started before the request: effort and image reach it on stdin.
    client = await bridge(make_client, real_env)
    for cli in ("copilot", "claude"):
        content = [{"type": "text", "text": f"Look IMG-{cli} [[fake:reasoning={THINKING}]] [[fake:reply=Seen.]]"},
                   {"type": "image_url", "image_url": {"url": data_url(RED)}}]
        answer = await ask(client, f"{cli}/{MODELS[cli]}", content, reasoning_effort="high")
        message = answer["choices"][0]["message"]
        assert (message["content"], message["reasoning_content"]) == ("Seen.", THINKING)
        await warm(client)
    bodies = await model_requests(model_server)
    copilot, claude = request_with(bodies, "IMG-copilot"), request_with(bodies, "IMG-claude")
    assert copilot["reasoning_effort"] == "high" and claude["output_config"]["effort"] == "high"
    assert data_url(RED) in json.dumps(copilot["messages"][-1]["content"])
    assert [b["source"]["data"] for b in claude["messages"][-1]["content"] if b["type"] == "image"] == [
        data_url(RED).split(",")[1]]
    served = (await health(client))["backends"]
    assert served["copilot"]["warm"]["server"]["sessions_served"] == 1
    assert served["claude"]["warm"]["served_warm"] == 1 and served["claude"]["warm"]["cold_starts"] == 0


async def test_a_killed_server_fails_the_request_in_flight_and_comes_back(
    make_client: MakeClient, real_env: dict[str, str], tmp_path: Path
) -> None:
    client = await bridge(make_client, real_env)
    first = (await health(client))["backends"]["copilot"]["warm"]["server"]["pid"]
    body = {"model": "copilot/gpt-5.4", "stream": True,
            "messages": [{"role": "user", "content": "[[fake:reply=one two three four]] [[fake:chunks=4]] [[fake:delay=1]]"}]}
    async with checked_session() as session:
        resp = await session.post(client.make_url("/v1/chat/completions"), json=body)
        await resp.content.readuntil(b'"content":"one')
        os.killpg(first, signal.SIGKILL)  # the whole server group dies mid-answer
        raw = (await asyncio.wait_for(resp.read(), 30)).decode()
    assert '"code":"copilot_execution_error"' in raw and "exit status -9" in raw and raw.endswith("data: [DONE]\n\n")
    backends = await warm(client)
    assert backends["copilot"]["warm"]["restarts"] == 1 and backends["copilot"]["warm"]["server"]["pid"] != first
    answer = await ask(client, "copilot/gpt-5.4", "after [[fake:reply=Back again.]]")
    assert answer["choices"][0]["message"]["content"] == "Back again."
    assert not [pid for pid in cli_processes(real_env["COPILOT_PROVIDER_API_KEY"], "copilot") if group_of(pid) == first]
    state = Path(real_env["HOME"]) / ".copilot" / "session-state"
    for _ in range(50):  # sessions are deleted just after their answers
        left = [p.name for p in state.iterdir() if not p.name.startswith(".")]
        if not left:
            break
        await asyncio.sleep(0.1)
    assert left == []


async def test_disconnects_leave_no_session_process_or_dir(
    make_client: MakeClient, real_env: dict[str, str], tmp_path: Path
) -> None:
    client = await bridge(make_client, real_env)
    marker = real_env["COPILOT_PROVIDER_API_KEY"]  # every CLI this test starts inherits it

    def now() -> dict[str, set[int]]:
        return {"copilot": cli_processes(marker, "copilot"), "claude": cli_processes(marker, "claude")}

    before = now()
    assert before["copilot"] and before["claude"]
    for model in ("copilot/gpt-5.4", "claude/sonnet"):
        body = {"model": model, "stream": True,
                "messages": [{"role": "user", "content": "[[fake:reply=one two three four]] [[fake:chunks=4]] [[fake:delay=1]]"}]}
        async with checked_session() as session:
            resp = await session.post(client.make_url("/v1/chat/completions"), json=body)
            await resp.content.readuntil(b'"content":"one')
            resp.close()
        await warm(client)
    state = Path(real_env["HOME"]) / ".copilot" / "session-state"
    temp_base = tmp_path / "bridge-tmp"
    for _ in range(100):
        sessions = [p.name for p in state.iterdir() if not p.name.startswith(".")]
        copilot_now, dirs = now()["copilot"], list(temp_base.iterdir())
        if not sessions and copilot_now == before["copilot"] and len(dirs) == 1:
            break
        await asyncio.sleep(0.1)
    assert sessions == [] and copilot_now == before["copilot"]  # the same server, nothing new
    assert not before["claude"] & now()["claude"]  # the pooled one that answered is gone
    assert len(dirs) == 1  # only the replacement pooled claude's own dir
    await client.close()  # shutdown: every warm process and dir goes
    for _ in range(100):
        if not processes_with(marker):
            break
        await asyncio.sleep(0.1)
    assert processes_with(marker) == []
    assert list(temp_base.iterdir()) == []
