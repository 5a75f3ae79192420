"""One contract suite, run against every CLI backend in every mode with the fake CLIs.

copilot-oneshot and claude-oneshot spawn the CLI per request; copilot-headless answers on one
long-lived `copilot --headless --stdio`; claude-pool answers on a `claude` started ahead of the
request. What a client sees must not depend on the mode; where the process layout differs (the
argv, what closing a stream stops) each mode's own promise is checked.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from executors import (
    Backend,
    BackendContext,
    CliAuthFailed,
    CliFailed,
    CliModelRejected,
    CliNotFound,
    CliSlots,
    RunInfo,
    TextDelta,
    UsageReport,
    read_backend_configs,
)
from executors.envconfig import ConfigError
from tests.conftest import FAKE_BIN, cli_records, scenario
from tests.executors.backend_helpers import (
    VARIANTS,
    TEST_SETTINGS,
    collect,
    make_backend,
    pid_alive,
    request_for,
    running_backend,
    variant_env,
    wait_until,
)

__all__ = ["pid_alive"]  # tests/server imports it from here
# One-shot runs answer at the CLI's result line; the exit and clean-up follow in the background.
ONESHOT = {"COPILOT_MODE": "oneshot", "CLAUDE_MODE": "oneshot"}


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


@pytest.fixture(params=list(VARIANTS))
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def kind(variant: str) -> str:
    return VARIANTS[variant][0]


@pytest.fixture
def temp_base(tmp_path: Path) -> Path:
    return tmp_path / "bridge-tmp"


@pytest.fixture
async def backend(variant: str, cli_env: dict[str, str], temp_base: Path) -> AsyncIterator[Backend]:
    async with running_backend(variant, cli_env, temp_base) as started:
        yield started


def served_record(record_dir: Path) -> dict[str, Any]:
    """The record of the one CLI process that served (not an idle pooled one, which has no prompt)."""
    (record,) = [r for r in cli_records(record_dir) if r.get("mode") == "headless" or r.get("prompt") is not None]
    return record


def headless_session(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The request's session in a headless server's record (the warm-up session left out)."""
    (found,) = [(sid, s) for sid, s in record["sessions"].items() if s["prompts"] != ["warm-up"]]
    return found


async def test_ok_streams_text_and_reports_usage(kind: str, backend: Backend) -> None:
    events = await collect(backend, request_for(kind, "Say hi"))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert [d.text for d in deltas] == ["Hello", " from", " mock."]
    usage = [e for e in events if isinstance(e, UsageReport)]
    assert len(usage) == 1 and usage[0].prompt_tokens > 0 and usage[0].completion_tokens > 0
    assert not usage[0].estimated


async def test_the_measured_invocation_and_the_prompt_outside_argv(
    variant: str, kind: str, backend: Backend, record_dir: Path, temp_base: Path
) -> None:
    events = await collect(backend, request_for(kind, "--yolo\nSay hi", system="SYSTEM-MARKER"))
    record = served_record(record_dir)
    argv = record["argv"][1:]
    assert "--yolo" not in argv and "Say hi" not in " ".join(argv)
    (info,) = [e for e in events if isinstance(e, RunInfo)]
    assert info.temp_dir is not None and Path(info.temp_dir).parent.resolve() == temp_base.resolve()
    if variant == "copilot-oneshot":
        assert record["stdin"] == "--yolo\nSay hi"
        assert record["files"]["AGENTS.md"] == "SYSTEM-MARKER"
        for flag in ("--output-format", "json", "--stream", "on", "--no-color", "--no-auto-update", "--no-ask-user"):
            assert flag in argv
        assert argv[argv.index("--available-tools") + 1] == "__none__"
        assert argv[argv.index("--model") + 1] == "gpt-5.4"
        assert "-p" not in argv
    elif variant == "copilot-headless":
        assert argv == ["--headless", "--no-auto-update", "--log-level", "warning", "--stdio",
                        "--auth-token-env", "COPILOT_GITHUB_TOKEN", "--no-auto-login"]
        await wait_until(lambda: headless_session(served_record(record_dir))[1]["deleted"], 5)
        _, session = headless_session(served_record(record_dir))
        create = session["create"]
        assert create["systemMessage"] == {"mode": "replace", "content": "SYSTEM-MARKER"}
        assert create["availableTools"] == [] and create["model"] == "gpt-5.4"
        assert create["requestPermission"] is False and create["streaming"] is True
        assert create["enableSessionStore"] is False and create["memory"] == {"enabled": False}
        assert Path(create["workingDirectory"]).resolve() == Path(info.temp_dir).resolve()
        assert "provider" not in create  # a GitHub token, not BYOK
        assert session["options_updates"] == [{"skipCustomInstructions": True}]
        assert session["prompts"] == ["--yolo\nSay hi"]
        assert session["deleted"] is True and session["aborted"] is False
    else:
        lines = [json.loads(line) for line in record["stdin"].splitlines() if line.strip()]
        assert lines[-1]["message"]["content"][0]["text"] == "--yolo\nSay hi"
        assert record["system_prompt"] == "SYSTEM-MARKER"
        assert argv[argv.index("--tools") + 1] == ""
        assert argv[argv.index("--max-turns") + 1] == "1"
        assert argv[argv.index("--setting-sources") + 1] == ""
        for flag in ("-p", "--verbose", "--include-partial-messages", "--no-session-persistence", "--strict-mcp-config"):
            assert flag in argv
        if variant == "claude-oneshot":
            assert record["system_prompt_file_content"] == "SYSTEM-MARKER" and len(lines) == 1
        else:  # started before the request: the system prompt came by initialize, nothing on argv
            assert "--system-prompt-file" not in argv and record["system_prompt_file_content"] is None
            # A ping at start-up (answered once it is ready), then the request's own prompt.
            assert [line["request"] for line in lines[:2]] == [
                {"subtype": "interrupt"}, {"subtype": "initialize", "systemPrompt": "SYSTEM-MARKER"}]
            assert record["control_requests"] == [line["request"] for line in lines[:2]]
    if variant != "copilot-headless":
        assert Path(record["cwd"]).resolve() == Path(info.temp_dir).resolve()
    await wait_until(lambda: not Path(info.temp_dir or "").exists(), 5)  # removed once the run ended


async def test_agent_tools_can_be_enabled_by_the_operator(
    variant: str, kind: str, cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    tools = {"ENABLE_CLI_TOOLS": "true"}
    if variant == "copilot-headless":
        with pytest.raises(ConfigError, match="^COPILOT_MODE: headless sessions run without"):
            make_backend(kind, cli_env, temp_base, config={**VARIANTS[variant][1], **tools})
        variant = "copilot-auto"  # auto runs such requests one-shot
        backend = make_backend(kind, variant_env("copilot-headless", cli_env), temp_base, config=tools)
        try:
            assert (await backend.health()).detail["mode"].startswith("oneshot (ENABLE_CLI_TOOLS=true")
            await collect(backend, request_for(kind, "hi"))
        finally:
            await backend.aclose()  # the run settles in the background; closing waits for it
    else:
        async with running_backend(variant, cli_env, temp_base, config=tools) as backend:
            await collect(backend, request_for(kind, "hi"))
    record = served_record(record_dir)
    assert "--available-tools" not in record["argv"] and "--tools" not in record["argv"]
    assert record.get("mode") != "headless"


async def test_slow_first_delta_arrives_while_cli_still_runs(kind: str, backend: Backend, record_dir: Path) -> None:
    events = backend.stream(request_for(kind, scenario("slow", delay=0.4)))
    started = time.monotonic()
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                first_after = time.monotonic() - started
                record = served_record(record_dir)
                assert not record.get("finished") and pid_alive(record["pid"])
                break
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    assert first_after < 3 + 3 * 0.4  # spawn included


async def first_text_and_record(events: Any, record_dir: Path) -> dict[str, Any]:
    async for event in events:
        if isinstance(event, TextDelta):
            break
    else:
        raise AssertionError("no text")
    await wait_until(lambda: bool(served_record(record_dir).get("child_pid")), 3)
    return served_record(record_dir)


@pytest.mark.parametrize("name", ["hang", "hang_hard"])
async def test_closing_the_stream_stops_the_answer(
    variant: str, kind: str, backend: Backend, name: str, record_dir: Path
) -> None:
    events = backend.stream(request_for(kind, scenario(name)))
    record = await first_text_and_record(events, record_dir)
    pid, child = record["pid"], record["child_pid"]
    assert pid_alive(pid) and pid_alive(child)
    started = time.monotonic()
    await events.aclose()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 1.5
    if variant != "copilot-headless":
        # The request's own process: its whole group is gone.
        assert not pid_alive(pid)
        await wait_until(lambda: not pid_alive(child), 1)
        return
    # Abort and delete run in the background: the client is not kept waiting for them.
    await wait_until(lambda: headless_session(served_record(record_dir))[1]["deleted"], 10)
    _, session = headless_session(served_record(record_dir))
    assert session["aborted"] is True
    if name == "hang":
        # The shared server stays (its other sessions go on) and answers the next request.
        assert pid_alive(pid)
        assert text_of(await collect(backend, request_for(kind, "again"))) == "Hello from mock."
    else:
        # A turn that ignores session.abort may run on: the server is replaced, its group stopped.
        await wait_until(lambda: not pid_alive(pid) and not pid_alive(child), 10)
        assert text_of(await collect(backend, request_for(kind, "again"))) == "Hello from mock."
        assert backend.stats()["restarts"] == 1


async def test_crash_mid_stream_raises_after_the_text_so_far(kind: str, backend: Backend) -> None:
    seen: list[Any] = []
    with pytest.raises(CliFailed):
        async for event in backend.stream(request_for(kind, scenario("crash"))):
            seen.append(event)
    assert text_of(seen) == "Hello"


async def test_auth_error_carries_the_cli_message(variant: str, kind: str, backend: Backend) -> None:
    with pytest.raises(CliAuthFailed) as info:
        await collect(backend, request_for(kind, scenario("auth")))
    assert not info.value.retryable  # sending it again cannot log the CLI in
    if variant == "copilot-oneshot":
        assert "No authentication information found" in info.value.message
        assert "COPILOT_GITHUB_TOKEN" in info.value.message
        assert "Changes" not in info.value.message
    elif variant == "copilot-headless":
        assert info.value.message.startswith("Execution failed: InvalidArg, No GitHub OAuth token")
        assert "copilot login" in info.value.message and "COPILOT_GITHUB_TOKEN" in info.value.message
    else:
        assert info.value.message.startswith("Not logged in")
        assert "ANTHROPIC_API_KEY" in info.value.message


async def test_model_rejected_by_the_cli(kind: str, backend: Backend) -> None:
    with pytest.raises(CliModelRejected) as info:
        await collect(backend, request_for(kind, scenario("model_error")))
    assert "model" in info.value.message.lower()


async def test_non_zero_exit_uses_stderr(kind: str, backend: Backend) -> None:
    with pytest.raises(CliFailed) as info:
        await collect(backend, request_for(kind, scenario("exit")))
    assert not isinstance(info.value, CliAuthFailed) and info.value.retryable
    assert "fatal: something went wrong" in info.value.message
    assert info.value.exit_code == 2


async def test_huge_line_arrives_intact(kind: str, backend: Backend) -> None:
    events = await collect(backend, request_for(kind, scenario("huge")))
    assert len(text_of(events)) >= 1024 * 1024


async def test_missing_cli_is_a_spawn_error(variant: str, kind: str, cli_env: dict[str, str], temp_base: Path) -> None:
    missing = {f"{kind.upper()}_CLI_PATH": f"/nonexistent/bin/{kind}"}
    async with running_backend(variant, cli_env, temp_base, config=missing, warm=False) as backend:
        health = await backend.health()
        assert health.available is False and health.detail["cli_path"] is None
        with pytest.raises(CliNotFound):
            await collect(backend, request_for(kind, "hi"))
        assert list(temp_base.iterdir()) == []


async def test_version_models_and_mode(variant: str, kind: str, backend: Backend) -> None:
    health = await backend.health()
    version = health.detail["version"]
    assert health.available and version is not None and ("1.0.102" in version or "2.1.197" in version)
    models = [m.id for m in await backend.list_models()]
    assert ("gpt-5.4" if kind == "copilot" else "sonnet") in models
    assert health.detail["mode"] == {"copilot-oneshot": "oneshot", "copilot-headless": "headless",
                                     "claude-oneshot": "oneshot", "claude-pool": "pool"}[variant]
    stats = backend.stats()
    assert all(isinstance(v, int) for v in stats.values())
    assert stats["processes_warm"] == (0 if variant.endswith("oneshot") else 1)


async def test_operator_model_list_replaces_discovery(kind: str, cli_env: dict[str, str], temp_base: Path) -> None:
    backend = make_backend(kind, cli_env, temp_base, config={f"{kind.upper()}_MODELS": "m-one, m-two"})
    assert [m.id for m in await backend.list_models()] == ["m-one", "m-two"]


async def test_cli_state_does_not_grow(kind: str, backend: Backend, cli_env: dict[str, str]) -> None:
    home = Path(cli_env["HOME"])
    for _ in range(3):
        await collect(backend, request_for(kind, "hi"))
    await backend.aclose()  # the clean-up runs after the answer; closing waits for it
    if kind == "copilot":
        state = home / ".copilot" / "session-state"

        def sessions() -> list[Path]:
            return [p for p in state.iterdir() if not p.name.startswith(".")] if state.exists() else []

        await wait_until(lambda: sessions() == [], 5)  # headless sessions are deleted just after the answer
    else:
        projects = home / ".claude" / "projects"
        assert not projects.exists() or not list(projects.rglob("*.jsonl"))


async def test_concurrent_requests_each_get_their_own_answer(kind: str, backend: Backend) -> None:
    replies = [f"answer number {i}" for i in range(6)]
    results = await asyncio.gather(*(collect(backend, request_for(kind, f"[[fake:reply={r}]]")) for r in replies))
    assert [text_of(events) for events in results] == replies


@pytest.mark.parametrize("cli", ["copilot", "claude"])
async def test_the_answer_ends_at_the_result_line_and_the_cli_exits_after(
    cli: str, cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    backend = make_backend(cli, {**cli_env, "FAKE_CLI_LINGER": "1.5"}, temp_base, config=ONESHOT)
    started = time.monotonic()
    events = await collect(backend, request_for(cli, "Say hi"))
    answered = time.monotonic() - started
    assert text_of(events) == "Hello from mock."
    (usage,) = [e for e in events if isinstance(e, UsageReport)]
    assert not usage.estimated and usage.completion_tokens > 0  # read at the result line, not at exit
    (record,) = cli_records(record_dir)
    assert not record.get("finished") and pid_alive(record["pid"])  # the CLI is still lingering
    (info,) = [e for e in events if isinstance(e, RunInfo)]
    assert info.temp_dir is not None and Path(info.temp_dir).exists()
    await backend.aclose()  # waits for the run to settle: the CLI exits on its own, files go
    (record,) = cli_records(record_dir)
    assert record["finished"] and record["exit_code"] == 0 and not pid_alive(record["pid"])
    assert time.monotonic() - started >= 1.5 > answered
    assert list(temp_base.iterdir()) == []


@pytest.mark.parametrize("cli", ["copilot", "claude"])
async def test_the_slot_is_held_until_the_cli_is_gone(
    cli: str, cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    temp_base.mkdir(parents=True, exist_ok=True)
    slots = CliSlots(1, 4)
    context = BackendContext({**cli_env, "FAKE_CLI_LINGER": "0.8"}, temp_base, slots, request_timeout_s=20)
    backend = read_backend_configs({**TEST_SETTINGS, **ONESHOT})[cli].build(context)
    first = await collect(backend, request_for(cli, "one"))
    assert text_of(first) == "Hello from mock." and slots.in_use == 1  # answered, still exiting
    second = asyncio.ensure_future(collect(backend, request_for(cli, "two")))
    await asyncio.sleep(0.3)
    assert not second.done() and slots.waiting == 1
    assert text_of(await second) == "Hello from mock."
    records = sorted(cli_records(record_dir), key=lambda r: r["pid"])
    assert len(records) == 2
    await backend.aclose()
    assert slots.in_use == 0 and not any(pid_alive(r["pid"]) for r in records)


@pytest.mark.parametrize("cli", ["copilot", "claude"])
async def test_a_cli_that_never_exits_after_its_answer_is_stopped(
    cli: str, cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    backend = make_backend(cli, {**cli_env, "FAKE_CLI_LINGER": "60"}, temp_base, config=ONESHOT)
    events = await collect(backend, request_for(cli, "Say hi"))
    assert text_of(events) == "Hello from mock."
    (record,) = cli_records(record_dir)
    started = time.monotonic()
    await backend.aclose()
    assert 1.5 < time.monotonic() - started < 6  # EXIT_AFTER_ANSWER_S (2 s), then SIGTERM
    assert not pid_alive(record["pid"]) and list(temp_base.iterdir()) == []


@pytest.mark.parametrize("variant", ["copilot-oneshot", "claude-oneshot"])
async def test_cli_removed_after_it_was_found_is_a_spawn_error(
    variant: str, kind: str, cli_env: dict[str, str], temp_base: Path, tmp_path: Path
) -> None:
    # The CLI's path is looked up at most every few seconds; a CLI removed meanwhile still fails cleanly.
    wrapper = tmp_path / "bin" / kind
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec {FAKE_BIN / kind} "$@"\n')
    wrapper.chmod(0o755)
    async with running_backend(variant, cli_env, temp_base, config={f"{kind.upper()}_CLI_PATH": str(wrapper)}) as backend:
        assert text_of(await collect(backend, request_for(kind, "hi"))) == "Hello from mock."
        wrapper.unlink()
        with pytest.raises(CliNotFound):
            await collect(backend, request_for(kind, "hi"))
        await backend.aclose()
        assert list(temp_base.iterdir()) == []
