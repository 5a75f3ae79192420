"""One contract suite, run against every CLI backend with the fake CLIs."""

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
from tests.conftest import cli_records, scenario
from tests.executors.backend_helpers import (
    TEST_SETTINGS,
    collect,
    make_backend,
    pid_alive,
    request_for,
)

BACKENDS = ["copilot", "claude"]


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def temp_base(tmp_path: Path) -> Path:
    return tmp_path / "bridge-tmp"


@pytest.fixture
async def backend(kind: str, cli_env: dict[str, str], temp_base: Path) -> AsyncIterator[Backend]:
    built = make_backend(kind, cli_env, temp_base)
    yield built
    await built.aclose()  # as the server does when it stops: runs still settling finish


async def test_ok_streams_text_and_reports_usage(kind: str, backend: Backend) -> None:
    events = await collect(backend, request_for(kind, "Say hi"))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert [d.text for d in deltas] == ["Hello", " from", " mock."]
    usage = [e for e in events if isinstance(e, UsageReport)]
    assert len(usage) == 1 and usage[0].prompt_tokens > 0 and usage[0].completion_tokens > 0
    assert not usage[0].estimated


async def test_argv_is_the_measured_one_and_prompt_goes_on_stdin(
    kind: str, backend: Backend, record_dir: Path, temp_base: Path
) -> None:
    events = await collect(backend, request_for(kind, "--yolo\nSay hi", system="SYSTEM-MARKER"))
    (record,) = cli_records(record_dir)
    argv = record["argv"][1:]
    assert "--yolo" not in argv and "Say hi" not in " ".join(argv)
    if kind == "copilot":
        assert record["stdin"] == "--yolo\nSay hi"
        assert record["files"]["AGENTS.md"] == "SYSTEM-MARKER"
        for flag in ("--output-format", "json", "--stream", "on", "--no-color", "--no-auto-update", "--no-ask-user"):
            assert flag in argv
        assert argv[argv.index("--available-tools") + 1] == "__none__"
        assert argv[argv.index("--model") + 1] == "gpt-5.4"
        assert "-p" not in argv
    else:
        message = json.loads(record["stdin"].strip())
        assert message["message"]["content"][0]["text"] == "--yolo\nSay hi"
        assert record["system_prompt_file_content"] == "SYSTEM-MARKER"
        assert argv[argv.index("--tools") + 1] == ""
        assert argv[argv.index("--max-turns") + 1] == "1"
        assert argv[argv.index("--setting-sources") + 1] == ""
        for flag in ("-p", "--verbose", "--include-partial-messages", "--no-session-persistence", "--strict-mcp-config"):
            assert flag in argv
    (info,) = [e for e in events if isinstance(e, RunInfo)]
    assert info.temp_dir is not None and Path(record["cwd"]).resolve() == Path(info.temp_dir).resolve()
    assert Path(info.temp_dir).parent.resolve() == temp_base.resolve()
    await backend.aclose()  # the answer does not wait for the clean-up; closing the backend does
    assert not Path(info.temp_dir).exists()  # removed once the run ended


async def test_agent_tools_can_be_enabled_by_the_operator(
    kind: str, cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    backend = make_backend(kind, cli_env, temp_base, config={"ENABLE_CLI_TOOLS": "true"})
    await collect(backend, request_for(kind, "hi"))
    (record,) = cli_records(record_dir)
    assert "--available-tools" not in record["argv"] and "--tools" not in record["argv"]


async def test_slow_first_delta_arrives_while_cli_still_runs(kind: str, backend: Backend, record_dir: Path) -> None:
    events = backend.stream(request_for(kind, scenario("slow", delay=0.4)))
    started = time.monotonic()
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                first_after = time.monotonic() - started
                (record,) = cli_records(record_dir)
                assert not record.get("finished") and pid_alive(record["pid"])
                break
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    assert first_after < 3 + 3 * 0.4  # spawn included


@pytest.mark.parametrize("name", ["hang", "hang_hard"])
async def test_closing_the_stream_kills_the_whole_process_group(
    kind: str, backend: Backend, name: str, record_dir: Path
) -> None:
    events = backend.stream(request_for(kind, scenario(name)))
    first_text = None
    async for event in events:
        if isinstance(event, TextDelta):
            first_text = event
            break
    assert first_text is not None
    record: dict[str, Any] = {}
    for _ in range(50):
        record = cli_records(record_dir)[0]
        if record.get("child_pid"):
            break
        await asyncio.sleep(0.05)
    pid, child = record["pid"], record["child_pid"]
    assert pid_alive(pid) and pid_alive(child)
    started = time.monotonic()
    await events.aclose()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 1.5
    assert not pid_alive(pid)
    for _ in range(20):
        if not pid_alive(child):
            break
        await asyncio.sleep(0.05)
    assert not pid_alive(child)


async def test_crash_mid_stream_raises_after_the_text_so_far(kind: str, backend: Backend) -> None:
    seen: list[Any] = []
    with pytest.raises(CliFailed):
        async for event in backend.stream(request_for(kind, scenario("crash"))):
            seen.append(event)
    assert text_of(seen) == "Hello"


async def test_auth_error_carries_the_cli_message(kind: str, backend: Backend) -> None:
    with pytest.raises(CliAuthFailed) as info:
        await collect(backend, request_for(kind, scenario("auth")))
    assert not info.value.retryable  # sending it again cannot log the CLI in
    if kind == "copilot":
        assert "No authentication information found" in info.value.message
        assert "COPILOT_GITHUB_TOKEN" in info.value.message
        assert "Changes" not in info.value.message
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


async def test_missing_cli_is_a_spawn_error(kind: str, cli_env: dict[str, str], temp_base: Path) -> None:
    backend = make_backend(kind, cli_env, temp_base, config={f"{kind.upper()}_CLI_PATH": f"/nonexistent/bin/{kind}"})
    health = await backend.health()
    assert health.available is False and health.detail["cli_path"] is None
    with pytest.raises(CliNotFound):
        await collect(backend, request_for(kind, "hi"))
    assert list(temp_base.iterdir()) == []


async def test_version_and_models(kind: str, backend: Backend) -> None:
    health = await backend.health()
    version = health.detail["version"]
    assert health.available and version is not None and ("1.0.102" in version or "2.1.197" in version)
    models = [m.id for m in await backend.list_models()]
    assert ("gpt-5.4" if kind == "copilot" else "sonnet") in models


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
        sessions = [p for p in state.iterdir() if not p.name.startswith(".")] if state.exists() else []
        assert sessions == []
    else:
        projects = home / ".claude" / "projects"
        assert not projects.exists() or not list(projects.rglob("*.jsonl"))


async def test_the_answer_ends_at_the_result_line_and_the_cli_exits_after(
    kind: str, cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    backend = make_backend(kind, {**cli_env, "FAKE_CLI_LINGER": "1.5"}, temp_base)
    started = time.monotonic()
    events = await collect(backend, request_for(kind, "Say hi"))
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


async def test_the_slot_is_held_until_the_cli_is_gone(
    kind: str, cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    temp_base.mkdir(parents=True, exist_ok=True)
    slots = CliSlots(1, 4)
    context = BackendContext({**cli_env, "FAKE_CLI_LINGER": "0.8"}, temp_base, slots, request_timeout_s=20)
    backend = read_backend_configs(TEST_SETTINGS)[kind].build(context)
    first = await collect(backend, request_for(kind, "one"))
    assert text_of(first) == "Hello from mock." and slots.in_use == 1  # answered, still exiting
    second = asyncio.ensure_future(collect(backend, request_for(kind, "two")))
    await asyncio.sleep(0.3)
    assert not second.done() and slots.waiting == 1
    assert text_of(await second) == "Hello from mock."
    records = sorted(cli_records(record_dir), key=lambda r: r["pid"])
    assert len(records) == 2
    await backend.aclose()
    assert slots.in_use == 0 and not any(pid_alive(r["pid"]) for r in records)


async def test_a_cli_that_never_exits_after_its_answer_is_stopped(
    kind: str, cli_env: dict[str, str], temp_base: Path, record_dir: Path
) -> None:
    backend = make_backend(kind, {**cli_env, "FAKE_CLI_LINGER": "60"}, temp_base)
    events = await collect(backend, request_for(kind, "Say hi"))
    assert text_of(events) == "Hello from mock."
    (record,) = cli_records(record_dir)
    started = time.monotonic()
    await backend.aclose()
    assert 1.5 < time.monotonic() - started < 6  # EXIT_AFTER_ANSWER_S (2 s), then SIGTERM
    assert not pid_alive(record["pid"]) and list(temp_base.iterdir()) == []
