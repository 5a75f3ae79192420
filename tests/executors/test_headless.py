"""The long-lived Copilot server: death and restart, fallback to one-shot, recycling, isolation.

All against the fake `copilot --headless --stdio` (tests/fakes/README.md, "Long-lived modes");
wrappers that reject the mode or change the protocol version are real executables too.
"""

from __future__ import annotations

import asyncio
import signal
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from executors import Backend, CliFailed, CliSlots, RunInfo, TextDelta
from executors.cli.transcript import DEFAULT_SYSTEM_PROMPT
from tests.conftest import FAKE_BIN, cli_records, scenario
from tests.executors.backend_helpers import (
    collect,
    make_backend,
    pid_alive,
    request_for,
    running_backend,
    variant_env,
    wait_until,
)

HEADLESS = "copilot-headless"


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def sessions(record_dir: Path) -> dict[str, dict[str, Any]]:
    """Every session any server saw, warm-up sessions left out."""
    found: dict[str, dict[str, Any]] = {}
    for record in cli_records(record_dir):
        for sid, session in (record.get("sessions") or {}).items():
            if session["prompts"] != ["warm-up"]:
                found[sid] = session
    return found


def session_dirs(home: Path) -> list[str]:
    state = home / ".copilot" / "session-state"
    return sorted(p.name for p in state.iterdir() if not p.name.startswith(".")) if state.exists() else []


@pytest.fixture
def temp_base(tmp_path: Path) -> Path:
    return tmp_path / "bridge-tmp"


@pytest.fixture
def home(cli_env: dict[str, str]) -> Path:
    return Path(cli_env["HOME"])


@pytest.fixture
async def backend(cli_env: dict[str, str], temp_base: Path) -> AsyncIterator[Backend]:
    async with running_backend(HEADLESS, cli_env, temp_base) as started:
        yield started


async def server_pid(backend: Backend) -> int:
    detail = (await backend.health()).detail["warm"]
    assert detail["server"] is not None, detail
    return int(detail["server"]["pid"])


def write_script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


async def test_server_death_mid_request_is_a_clean_error_then_a_restart(
    backend: Backend, record_dir: Path, home: Path, temp_base: Path
) -> None:
    first_pid = await server_pid(backend)
    slow = asyncio.ensure_future(collect(backend, request_for("copilot", "[[fake:reply=a b c d e f]] [[fake:chunks=6]] [[fake:delay=0.3]]")))
    await asyncio.sleep(0.2)
    with pytest.raises(CliFailed) as crashed:
        await asyncio.wait_for(collect(backend, request_for("copilot", scenario("crash"))), 10)
    with pytest.raises(CliFailed) as other:
        await asyncio.wait_for(slow, 10)  # in flight on the same server: an error, not a hang
    for error in (crashed.value, other.value):
        assert error.message.startswith("the copilot server stopped while answering (exit status -9)")
        assert error.exit_code == -signal.SIGKILL
    await wait_until(lambda: backend.stats()["processes_idle"] == 1 and backend.stats()["restarts"] == 1, 20)
    second_pid = await server_pid(backend)
    assert second_pid != first_pid and not pid_alive(first_pid)
    assert text_of(await collect(backend, request_for("copilot", "after the crash"))) == "Hello from mock."
    warm = (await backend.health()).detail["warm"]
    assert warm["state"] == "ready" and warm["restarts"] == 1 and warm["processes"] == 1
    assert "exited (-9)" in warm["last_error"]
    # Nothing left of the two dead sessions: no session state, no temp dir.
    await wait_until(lambda: session_dirs(home) == [] and list(temp_base.iterdir()) == [], 5)


async def test_every_session_is_aborted_when_abandoned_and_always_deleted(
    backend: Backend, record_dir: Path, home: Path
) -> None:
    await collect(backend, request_for("copilot", "plain [[fake:reply=ok]]"))
    with pytest.raises(CliFailed):
        await collect(backend, request_for("copilot", "bad " + scenario("model_error")))
    events = backend.stream(request_for("copilot", "left " + scenario("slow", delay=0.3)))
    async for event in events:
        if isinstance(event, TextDelta):
            break
    await events.aclose()  # type: ignore[attr-defined]
    with pytest.raises(TimeoutError):  # a request timeout cancels the run mid-answer
        await asyncio.wait_for(collect(backend, request_for("copilot", "late " + scenario("hang"))), 0.5)
    await wait_until(lambda: len(sessions(record_dir)) == 4 and all(s["deleted"] for s in sessions(record_dir).values()), 5)
    by_prompt = {s["prompts"][0].split()[0]: s for s in sessions(record_dir).values()}
    assert {k: v["aborted"] for k, v in by_prompt.items()} == {"plain": False, "bad": False, "left": True, "late": True}
    assert session_dirs(home) == []


async def test_closing_the_backend_stops_the_server_and_its_group(cli_env: dict[str, str], temp_base: Path,
                                                                  record_dir: Path) -> None:
    async with running_backend(HEADLESS, cli_env, temp_base) as backend:
        pid = await server_pid(backend)
        events = backend.stream(request_for("copilot", scenario("hang")))
        async for event in events:
            if isinstance(event, TextDelta):
                break
        child = next(r["child_pid"] for r in cli_records(record_dir) if r.get("child_pid"))
        assert pid_alive(pid) and pid_alive(child)
        await events.aclose()  # type: ignore[attr-defined]
    await wait_until(lambda: not pid_alive(pid) and not pid_alive(child), 5)
    assert backend.stats()["processes_warm"] == 0


async def test_the_warm_up_session_calls_no_model_and_leaves_nothing(backend: Backend, record_dir: Path, home: Path) -> None:
    (record,) = cli_records(record_dir)
    (warm,) = [s for s in record["sessions"].values() if s["prompts"] == ["warm-up"]]
    provider = warm["create"]["provider"]
    assert provider["baseUrl"].startswith("http://127.0.0.1:") and "apiKey" not in provider
    assert warm["aborted"] is True and warm["deleted"] is True
    assert session_dirs(home) == []


async def test_the_system_prompt_is_exactly_the_clients(backend: Backend, record_dir: Path) -> None:
    await collect(backend, request_for("copilot", "no system", system=None))
    await collect(backend, request_for("copilot", "system", system="Line one.\nLine two."))
    tool = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    await collect(backend, request_for("copilot", "tools", system="Be kind.", tools=(tool,)))
    by_prompt = {s["prompts"][0]: s["create"]["systemMessage"] for s in sessions(record_dir).values()}
    assert by_prompt["no system"] == {"mode": "replace", "content": DEFAULT_SYSTEM_PROMPT}
    assert by_prompt["system"] == {"mode": "replace", "content": "Line one.\nLine two."}
    with_tools = by_prompt["tools"]["content"]
    assert with_tools.startswith("Be kind.\n\n") and "get_time" in with_tools and "<tool_call>" in with_tools


async def test_recycled_after_the_configured_number_of_sessions(cli_env: dict[str, str], temp_base: Path) -> None:
    async with running_backend(HEADLESS, cli_env, temp_base, config={"COPILOT_RECYCLE_SESSIONS": "2"}) as backend:
        first = await server_pid(backend)
        for _ in range(2):
            await collect(backend, request_for("copilot", "hi"))
        await wait_until(lambda: not pid_alive(first), 5)
        await wait_until(lambda: backend.stats()["processes_idle"] == 1, 20)
        assert await server_pid(backend) != first
        assert text_of(await collect(backend, request_for("copilot", "hi"))) == "Hello from mock."
        assert backend.stats()["restarts"] == 1


@pytest.mark.slow
async def test_recycled_above_the_memory_limit(cli_env: dict[str, str], temp_base: Path) -> None:
    async with running_backend(HEADLESS, cli_env, temp_base, config={"COPILOT_RECYCLE_RSS_MB": "1"}) as backend:
        first = await server_pid(backend)
        await wait_until(lambda: not pid_alive(first), 30)  # measured every few seconds: 1 MB is exceeded
        await wait_until(lambda: backend.stats()["processes_idle"] == 1, 20)
        assert text_of(await collect(backend, request_for("copilot", "hi"))) == "Hello from mock."


async def test_byok_settings_become_the_session_provider(cli_env: dict[str, str], temp_base: Path, record_dir: Path) -> None:
    env = {**cli_env, "COPILOT_PROVIDER_BASE_URL": "http://127.0.0.1:9/v1", "COPILOT_PROVIDER_API_KEY": "key-123",
           "COPILOT_PROVIDER_TYPE": "azure", "COPILOT_PROVIDER_AZURE_API_VERSION": "2024-10-21",
           "COPILOT_PROVIDER_HEADERS": "X-One: 1\\nX-Two: two", "COPILOT_PROVIDER_MAX_OUTPUT_TOKENS": "512"}
    backend = make_backend("copilot", env, temp_base, config={"COPILOT_MODE": "headless"})
    try:
        assert text_of(await collect(backend, request_for("copilot", "hi"))) == "Hello from mock."
    finally:
        await backend.aclose()
    (record,) = cli_records(record_dir)
    # No token: no --auth-token-env; BYOK needs a model to start (each session names its own).
    assert record["argv"][1:] == ["--headless", "--no-auto-update", "--log-level", "warning", "--stdio",
                                  "--model", "gpt-4.1"]
    (session,) = [s for s in record["sessions"].values()]
    assert session["create"]["provider"] == {
        "type": "azure", "baseUrl": "http://127.0.0.1:9/v1", "apiKey": "key-123", "azure": {"apiVersion": "2024-10-21"},
        "headers": {"X-One": "1", "X-Two": "two"}, "maxOutputTokens": 512}


async def test_a_stored_login_is_left_to_the_cli(cli_env: dict[str, str], temp_base: Path, record_dir: Path) -> None:
    backend = make_backend("copilot", cli_env, temp_base, config={"COPILOT_MODE": "headless"})
    try:
        with pytest.raises(CliFailed) as info:  # the fake has no stored login to find
            await collect(backend, request_for("copilot", "hi"))
    finally:
        await backend.aclose()
    assert "No GitHub OAuth token" in info.value.message and "copilot login" in info.value.message
    (record,) = cli_records(record_dir)
    assert "--no-auto-login" not in record["argv"] and "--auth-token-env" not in record["argv"]


REJECTS_HEADLESS = """#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = "--headless" ]; then
    printf "error: unexpected argument '--headless' found\\n\\nUsage: copilot [OPTIONS] [COMMAND]\\n" >&2
    exit 1
  fi
done
exec {fake} "$@"
"""

OTHER_PROTOCOL = """#!{python}
import os, subprocess, sys
child = subprocess.Popen(["{fake}", *sys.argv[1:]], stdout=subprocess.PIPE)
while chunk := os.read(child.stdout.fileno(), 65536):
    os.write(1, chunk.replace(b'"protocolVersion":3', b'"protocolVersion":9'))
sys.exit(child.wait())
"""


@pytest.mark.parametrize(("script", "why"), [
    (REJECTS_HEADLESS, "error: unexpected argument '--headless' found"),
    (OTHER_PROTOCOL, "the copilot headless server speaks protocol 9, not 3"),
])
async def test_auto_falls_back_to_one_shot_when_headless_cannot_serve(
    cli_env: dict[str, str], temp_base: Path, record_dir: Path, tmp_path: Path, script: str, why: str
) -> None:
    cli = write_script(tmp_path / "copilot", script.format(fake=FAKE_BIN / "copilot", python=sys.executable))
    env = variant_env(HEADLESS, cli_env)
    backend = make_backend("copilot", env, temp_base, config={"COPILOT_CLI_PATH": str(cli)})  # auto
    await backend.start()
    try:
        for _ in range(100):
            health = (await backend.health()).detail
            if health["warm"]["state"] == "unsupported":
                break
            await asyncio.sleep(0.05)
        assert health["warm"]["state"] == "unsupported"
        assert health["mode"].startswith("oneshot (fallback: ") and why in health["mode"]
        events = await collect(backend, request_for("copilot", "hi"))
        assert text_of(events) == "Hello from mock."
        assert RunInfo(fallbacks=("copilot_oneshot",)) in events
        one_shot = [r for r in cli_records(record_dir) if r.get("mode") != "headless" and r.get("stdin")]
        assert len(one_shot) == 1 and "--output-format" in one_shot[0]["argv"]
    finally:
        await backend.aclose()
    forced = make_backend("copilot", env, temp_base, config={"COPILOT_CLI_PATH": str(cli), "COPILOT_MODE": "headless"})
    try:
        with pytest.raises(CliFailed) as info:
            await collect(forced, request_for("copilot", "hi"))
        assert why in info.value.message
    finally:
        await forced.aclose()
    assert list(temp_base.iterdir()) == []


async def test_auto_falls_back_while_the_server_keeps_dying_then_recovers(
    cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    backend = make_backend("copilot", variant_env(HEADLESS, cli_env), temp_base)  # auto
    await backend.start()
    try:
        for _ in range(3):
            with pytest.raises(CliFailed, match="fatal: something went wrong"):
                await collect(backend, request_for("copilot", scenario("exit")))
        await wait_until(lambda: backend.stats()["processes_warm"] == 0, 5)
        health = (await backend.health()).detail
        assert health["warm"]["state"] == "failing" and health["mode"].startswith("oneshot (fallback: ")
        events = await collect(backend, request_for("copilot", "meanwhile"))
        assert RunInfo(fallbacks=("copilot_oneshot",)) in events and text_of(events) == "Hello from mock."
        # The backoff ends, a fresh server starts in the background, and headless serves again.
        await wait_until(lambda: backend.stats()["processes_idle"] == 1, 30)
        events = await collect(backend, request_for("copilot", "again"))
        assert text_of(events) == "Hello from mock." and not any(isinstance(e, RunInfo) and e.fallbacks for e in events)
        assert (await backend.health()).detail["mode"] == "headless"
    finally:
        await backend.aclose()


async def test_the_server_counts_toward_the_slots_but_never_blocks_a_request(
    cli_env: dict[str, str], temp_base: Path
) -> None:
    slots = CliSlots(1, 8)
    async with running_backend(HEADLESS, cli_env, temp_base, slots=slots) as backend:
        await wait_until(lambda: slots.reserved == 1, 5)  # the idle server holds the only slot
        assert text_of(await asyncio.wait_for(collect(backend, request_for("copilot", "hi")), 10)) == "Hello from mock."
        await wait_until(lambda: slots.reserved == 1 and slots.in_use == 0, 5)  # and takes it back afterwards
        assert backend.stats()["restarts"] == 0  # it gave the slot up without being stopped


async def test_sixteen_sessions_at_once_on_one_server(cli_env: dict[str, str], temp_base: Path, record_dir: Path) -> None:
    async with running_backend(HEADLESS, cli_env, temp_base, slots=CliSlots(16, 16)) as backend:
        results = await asyncio.gather(*(collect(backend, request_for("copilot", f"[[fake:reply=answer {i}]] [[fake:delay=0.2]]")) for i in range(16)))
        assert [text_of(r) for r in results] == [f"answer {i}" for i in range(16)]
    assert len([r for r in cli_records(record_dir) if r.get("mode") == "headless"]) == 1

