"""One contract suite, run against both executors with the fake CLIs."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from executors import (
    ClaudeExecutor,
    CliFailed,
    CliModelRejected,
    CliNotFound,
    CopilotExecutor,
    Executor,
    LaunchSpec,
    TextDelta,
    UsageReport,
)
from executors.config import CliConfig
from tests.conftest import FAKE_BIN, cli_records, scenario

BACKENDS = ["copilot", "claude"]


def make_executor(backend: str, env: dict[str, str], **config: Any) -> Executor:
    cfg = CliConfig(path=str(FAKE_BIN / backend), env=env, grace_s=0.3, **config)
    return CopilotExecutor(cfg) if backend == "copilot" else ClaudeExecutor(cfg)


async def run(executor: Executor, workdir: Path, prompt: str, system: str | None = "Be brief.") -> list[Any]:
    running = await executor.start(LaunchSpec("gpt-5.4" if executor.backend == "copilot" else "sonnet", workdir, system))
    try:
        await running.send(prompt)
        return [event async for event in running.events()]
    finally:
        await running.close()




def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes; it is reaped by its parent.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


async def test_ok_streams_text_and_reports_usage(backend: str, cli_env: dict[str, str], workdir: Path) -> None:
    events = await run(make_executor(backend, cli_env), workdir, "Say hi")
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert [d.text for d in deltas] == ["Hello", " from", " mock."]
    usage = [e for e in events if isinstance(e, UsageReport)]
    assert len(usage) == 1 and usage[0].prompt_tokens > 0 and usage[0].completion_tokens > 0
    assert not usage[0].estimated


async def test_argv_is_the_measured_one_and_prompt_goes_on_stdin(
    backend: str, cli_env: dict[str, str], workdir: Path, record_dir: Path
) -> None:
    await run(make_executor(backend, cli_env), workdir, "--yolo\nSay hi", system="SYSTEM-MARKER")
    (record,) = cli_records(record_dir)
    argv = record["argv"][1:]
    assert "--yolo" not in argv and "Say hi" not in " ".join(argv)
    if backend == "copilot":
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
    assert Path(record["cwd"]).resolve() == workdir.resolve()


async def test_agent_tools_can_be_enabled_by_the_operator(
    backend: str, cli_env: dict[str, str], workdir: Path, record_dir: Path
) -> None:
    await run(make_executor(backend, cli_env, enable_tools=True), workdir, "hi")
    (record,) = cli_records(record_dir)
    assert "--available-tools" not in record["argv"] and "--tools" not in record["argv"]


async def test_slow_first_delta_arrives_while_cli_still_runs(
    backend: str, cli_env: dict[str, str], workdir: Path
) -> None:
    executor = make_executor(backend, cli_env)
    running = await executor.start(LaunchSpec("gpt-5.4", workdir, None))
    try:
        await running.send(scenario("slow", delay=0.4))
        started = time.monotonic()
        async for event in running.events():
            if isinstance(event, TextDelta):
                assert running.process.returncode is None and pid_alive(running.process.pid)
                first_after = time.monotonic() - started
                break
    finally:
        await running.close()
    assert first_after < 3 * 0.4


@pytest.mark.parametrize("name", ["hang", "hang_hard"])
async def test_close_kills_the_whole_process_group(
    backend: str, name: str, cli_env: dict[str, str], workdir: Path, record_dir: Path
) -> None:
    executor = make_executor(backend, cli_env)
    running = await executor.start(LaunchSpec("gpt-5.4", workdir, None))
    await running.send(scenario(name))
    events = running.events()
    first = await anext(events)
    assert isinstance(first, TextDelta)
    record = cli_records(record_dir)[0]
    for _ in range(50):
        record = cli_records(record_dir)[0]
        if record.get("child_pid"):
            break
        await asyncio.sleep(0.05)
    child = record["child_pid"]
    assert pid_alive(running.process.pid) and pid_alive(child)
    started = time.monotonic()
    await events.aclose()
    await running.close()
    assert time.monotonic() - started < 1.0
    assert not pid_alive(running.process.pid)
    for _ in range(20):
        if not pid_alive(child):
            break
        await asyncio.sleep(0.05)
    assert not pid_alive(child)


async def test_crash_mid_stream_raises_after_the_text_so_far(
    backend: str, cli_env: dict[str, str], workdir: Path
) -> None:
    seen: list[Any] = []
    with pytest.raises(CliFailed):
        running = await make_executor(backend, cli_env).start(LaunchSpec("gpt-5.4", workdir, None))
        try:
            await running.send(scenario("crash"))
            async for event in running.events():
                seen.append(event)
        finally:
            await running.close()
    assert text_of(seen) == "Hello"


async def test_auth_error_carries_the_cli_message(backend: str, cli_env: dict[str, str], workdir: Path) -> None:
    with pytest.raises(CliFailed) as info:
        await run(make_executor(backend, cli_env), workdir, scenario("auth"))
    assert not isinstance(info.value, CliModelRejected)
    if backend == "copilot":
        assert "No authentication information found" in info.value.message
        assert "COPILOT_GITHUB_TOKEN" in info.value.message
        assert "Changes" not in info.value.message
    else:
        assert info.value.message.startswith("Not logged in")
        assert "ANTHROPIC_API_KEY" in info.value.message


async def test_model_rejected_by_the_cli(backend: str, cli_env: dict[str, str], workdir: Path) -> None:
    with pytest.raises(CliModelRejected) as info:
        await run(make_executor(backend, cli_env), workdir, scenario("model_error"))
    assert "model" in info.value.message.lower()


async def test_non_zero_exit_uses_stderr(backend: str, cli_env: dict[str, str], workdir: Path) -> None:
    with pytest.raises(CliFailed) as info:
        await run(make_executor(backend, cli_env), workdir, scenario("exit"))
    assert "fatal: something went wrong" in info.value.message
    assert info.value.exit_code == 2


async def test_huge_line_arrives_intact(backend: str, cli_env: dict[str, str], workdir: Path) -> None:
    events = await run(make_executor(backend, cli_env), workdir, scenario("huge"))
    assert len(text_of(events)) >= 1024 * 1024


async def test_missing_cli_is_a_spawn_error(backend: str, cli_env: dict[str, str], workdir: Path) -> None:
    cfg = CliConfig(path="/nonexistent/bin/" + backend, env=cli_env)
    executor: Executor = CopilotExecutor(cfg) if backend == "copilot" else ClaudeExecutor(cfg)
    assert executor.resolved_path() is None
    with pytest.raises(CliNotFound):
        await executor.start(LaunchSpec("x", workdir, None))


async def test_version_and_models(backend: str, cli_env: dict[str, str]) -> None:
    executor = make_executor(backend, cli_env)
    version = await executor.version()
    assert version is not None and ("1.0.102" in version or "2.1.197" in version)
    models = await executor.discover_models()
    assert ("gpt-5.4" if backend == "copilot" else "sonnet") in models


async def test_cli_state_does_not_grow(backend: str, cli_env: dict[str, str], workdir: Path) -> None:
    home = Path(cli_env["HOME"])
    for _ in range(3):
        await run(make_executor(backend, cli_env), workdir, "hi")
    if backend == "copilot":
        state = home / ".copilot" / "session-state"
        sessions = [p for p in state.iterdir() if not p.name.startswith(".")] if state.exists() else []
        assert sessions == []
    else:
        projects = home / ".claude" / "projects"
        assert not projects.exists() or not list(projects.rglob("*.jsonl"))
