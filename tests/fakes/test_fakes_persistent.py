"""The fakes' long-lived modes: `copilot --headless --stdio` and a pre-spawned `claude` process.

Each test holds the fake to what the real CLI was seen to do (tests/fakes/README.md, "Long-lived
modes"). The `realcli` test runs the same drivers against the real CLIs and the fake model
server, and checks the exact system prompt the model received.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from model_server import running_model_server
from test_fakes import find_real_cli, real_cli_env

from executors.copilot.jsonrpc import JsonRpcConnection
from executors.copilot.rpc import ConnectionLost, RpcCallError

FAKES_BIN = Path(__file__).resolve().parent / "bin"
HEADLESS_ARGV = ["--headless", "--no-auto-update", "--log-level", "warning", "--stdio",
                 "--no-auto-login"]
NO_TOKEN = "Execution failed: InvalidArg, No GitHub OAuth token or Copilot HMAC key provided"
# Event types of a new session's first answered turn, in order, as the real server sends them
# (it may swap title_changed and info). The first two come with session.create, the third
# before the session.send answer.
OK_TURN = [
    "session.start", "session.managed_settings_resolved", "pending_messages.modified",
    "pending_messages.modified", "session.skills_loaded", "session.mcp_servers_loaded",
    "session.title_changed", "session.info", "session.tools_updated", "user.message",
    "system.message", "model.turn_started", "assistant.turn_start", "session.usage_info",
    "model.log", "model.call_start", "model.model_call_started", "assistant.streaming_delta",
    "assistant.message_start", "assistant.message_delta", "assistant.streaming_delta",
    "assistant.message_delta", "assistant.streaming_delta", "assistant.message_delta",
    "assistant.usage", "model.model_call_success", "model.call_finished", "model.message",
    "assistant.message", "model.response", "model.call_final_result", "model.turn_ended",
    "assistant.turn_end", "model.messages_snapshot", "assistant.idle", "session.idle"]
CLAUDE_POOL_ARGV = ["-p", "--input-format", "stream-json", "--output-format", "stream-json",
                    "--verbose", "--include-partial-messages", "--model", "sonnet", "--tools", "",
                    "--setting-sources", "", "--strict-mcp-config", "--no-session-persistence"]
CLAUDE_SDK_PREFIX = "You are a Claude agent, built on Anthropic's Claude Agent SDK."


# ---------------------------------------------------------------------------- copilot driver


@dataclass
class Headless:
    """A running headless server and what it sent."""

    proc: asyncio.subprocess.Process
    conn: JsonRpcConnection
    home: Path
    lifecycle: list[tuple[str, str]] = field(default_factory=list)

    def create_params(self, session_id: str, system: str | None, workdir: Path,
                      provider: dict[str, str] | None, **extra: Any) -> dict[str, Any]:
        """What the official SDK sends, with our choices (no tools, replace mode)."""
        params: dict[str, Any] = {
            "sessionId": session_id, "model": "gpt-4.1", "availableTools": [],
            "toolFilterPrecedence": "excluded", "workingDirectory": str(workdir),
            "streaming": True, "requestPermission": False, "requestUserInput": False,
            "enableSessionTelemetry": False, "envValueMode": "direct",
            "skipEmbeddingRetrieval": True, "embeddingCacheStorage": "in-memory",
            "enableOnDemandInstructionDiscovery": False, "enableFileHooks": False,
            "enableHostGitOperations": False, "enableSessionStore": False, "enableSkills": False,
            "memory": {"enabled": False}, "customAgentsLocalOnly": True,
            "mcpOAuthTokenStorage": "in-memory"}
        if system is not None:
            params["systemMessage"] = {"mode": "replace", "content": system}
        if provider is not None:
            params["provider"] = provider
        return params | extra

    async def turn(self, prompt: str, *, system: str | None = "Be terse.",
                   provider: dict[str, str] | None = None, workdir: Path | None = None,
                   delete: bool = True, skip_instructions: bool = True,
                   **extra: Any) -> SessionRun:
        """create -> options.update -> send -> events until idle -> delete."""
        session_id = str(uuid.uuid4())
        workdir = workdir or self.home
        run = SessionRun(session_id)
        with self.conn.subscribe(session_id) as sub:
            params = self.create_params(session_id, system, workdir, provider, **extra)
            run.created = await self.conn.request("session.create", params, timeout=30)
            await self.conn.request("session.options.update",
                                    {"sessionId": session_id,
                                     "skipCustomInstructions": skip_instructions}, timeout=30)
            run.sent = await self.conn.request("session.send",
                                               {"sessionId": session_id, "prompt": prompt},
                                               timeout=30)
            run.sent_at = time.monotonic()
            await asyncio.wait_for(run.collect(sub), 60)
        if delete:
            run.deleted = await self.conn.request("session.delete", {"sessionId": session_id},
                                                  timeout=30)
        return run

    async def stop(self) -> int:
        await self.conn.close()  # EOF on stdin: the server exits
        try:
            code = await asyncio.wait_for(self.proc.wait(), 10)
        finally:
            kill_group(self.proc.pid)
            await self.proc.communicate()
        return code


@dataclass
class SessionRun:
    """One session's notifications up to session.idle."""

    session_id: str
    created: dict[str, Any] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)
    deleted: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    sent_at: float = 0.0
    first_delta_at: float | None = None

    async def collect(self, sub: Any) -> None:
        async for note in sub:
            event = note.event
            if event is None:
                continue
            self.events.append(event)
            if event["type"] == "assistant.message_delta" and self.first_delta_at is None:
                self.first_delta_at = time.monotonic()
            if event["type"] == "session.idle":
                return

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def data(self, kind: str) -> dict[str, Any]:
        return next(e["data"] for e in self.events if e["type"] == kind)

    @property
    def text(self) -> str:
        return "".join(e["data"]["deltaContent"] for e in self.events
                       if e["type"] == "assistant.message_delta")


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def start_headless(binary: str, env: dict[str, str], home: Path,
                         args: list[str] | None = None) -> Headless:
    proc = await asyncio.create_subprocess_exec(
        binary, *(HEADLESS_ARGV if args is None else args), env=env, cwd=home,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True)
    server = Headless(proc, JsonRpcConnection.for_process(proc, label="copilot"), home)
    return server


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def fake_env(home: Path, tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(home),
            "FAKE_CLI_RECORD_DIR": str(tmp_path / "records")}


@pytest.fixture
async def headless(fake_env: dict[str, str], home: Path) -> AsyncIterator[Headless]:
    server = await start_headless(str(FAKES_BIN / "copilot"), fake_env, home)
    connected = await server.conn.request("connect", {}, timeout=30)
    assert connected == {"ok": True, "protocolVersion": 3, "version": "1.0.102",
                         "taskKinds": ["agent", "shell"]}
    yield server
    await server.stop()


PROVIDER = {"type": "openai", "baseUrl": "http://127.0.0.1:9/v1", "apiKey": "key-1"}


def record(tmp_path: Path, pid: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "records" / f"copilot-{pid}.json").read_text())
    return data


# ---------------------------------------------------------------------------- fake copilot


async def test_headless_handshake_and_errors(headless: Headless) -> None:
    conn = headless.conn
    assert await conn.request("status.get") == {"version": "1.0.102", "protocolVersion": 3}
    assert await conn.request("auth.getStatus") == {"isAuthenticated": False,
                                                    "statusMessage": "Not authenticated"}
    with pytest.raises(RpcCallError) as models:
        await conn.request("models.list")
    assert (models.value.code, models.value.message) == (
        -32603, ("Request models.list failed with message: Not authenticated. Please "
                "authenticate first."))
    with pytest.raises(RpcCallError) as unknown:
        await conn.request("session.history.compact")
    assert unknown.value.code == -32601
    assert await conn.request("session.delete", {"sessionId": "nope"}) == {
        "success": False, "error": "Session file not found for nope"}
    kinds = await conn.request("connect", {"supportedTaskKinds": ["agent", "client", "shell"]})
    assert kinds["taskKinds"] == ["agent", "shell", "client"]


async def test_headless_turn_messages(headless: Headless, tmp_path: Path) -> None:
    run = await headless.turn("Say hi", system="Replace [[fake:reply=Hi there you]]",
                              provider=PROVIDER)
    assert run.types() == OK_TURN
    assert run.text == "Hi there you"
    assert set(run.created) == {"sessionId", "nativeSessionId", "startTime", "isRemote", "mode",
                                "workspacePath", "capabilities", "modelState"}
    assert run.created["modelState"] == {"modelId": "gpt-4.1"}
    assert run.created["workspacePath"] == str(
        headless.home / ".copilot" / "session-state" / run.session_id)
    user = run.data("user.message")
    assert user["messageId"] == run.sent["messageId"]
    assert re.fullmatch(r"<current_datetime>\d{4}-\d\d-\d\dT[\d:.]+\+00:00</current_datetime>"
                        r"\n\nSay hi", user["transformedContent"])
    assert run.data("system.message")["content"] == "Replace [[fake:reply=Hi there you]]"
    usage = run.data("assistant.usage")
    assert (usage["model"], usage["isByok"], usage["providerType"]) == ("gpt-4.1", True, "openai")
    assert usage["inputTokens"] > 0 and usage["outputTokens"] == 3
    assert run.data("assistant.message")["content"] == "Hi there you"
    assert run.data("session.idle") == {"mode": "interactive"}
    assert run.data("session.info")["message"].startswith("Disabled tools: bash, create, edit")
    # Persisted events chain by parentId; ephemeral ones hang off the last persisted one.
    by_type = {e["type"]: e for e in run.events}
    assert by_type["system.message"]["parentId"] == by_type["user.message"]["id"]
    assert by_type["assistant.idle"]["parentId"] == by_type["assistant.turn_end"]["id"]
    assert "ephemeral" not in by_type["assistant.message"]
    assert run.deleted == {"success": True}
    assert not (headless.home / ".copilot" / "session-state" / run.session_id).exists()


async def test_without_provider_or_token_the_turn_fails_like_the_real_one(
        headless: Headless) -> None:
    run = await headless.turn("Say hi")
    assert run.types() == ["session.start", "session.managed_settings_resolved",
                           "pending_messages.modified", "pending_messages.modified",
                           "session.skills_loaded",
                           "session.mcp_servers_loaded", "session.title_changed",
                           "session.info", "session.error", "assistant.idle", "session.idle"]
    assert run.data("session.error") == {"errorType": "query", "message": NO_TOKEN}


async def test_a_github_token_answers_without_a_provider(fake_env: dict[str, str],
                                                         home: Path) -> None:
    server = await start_headless(str(FAKES_BIN / "copilot"), fake_env | {"MY_TOKEN": "gho_x"},
                                  home, [*HEADLESS_ARGV, "--auth-token-env", "MY_TOKEN"])
    try:
        status = await server.conn.request("auth.getStatus", timeout=30)
        assert status["isAuthenticated"] is True
        run = await server.turn("Say hi")
        assert run.text == "Hello from mock."
        assert run.data("assistant.usage")["isByok"] is False
    finally:
        await server.stop()


@pytest.mark.parametrize(("directive", "error"), [
    ("[[fake:scenario=auth]]", {"errorType": "query", "message": NO_TOKEN}),
    ("[[fake:scenario=model_error]]", {
        "errorType": "query", "statusCode": 404,
        "message": "Resource not found on provider at http://127.0.0.1:9/v1 (HTTP 404).\n"
                   "  Check the base URL and model name."}),
])
async def test_failing_scenarios_end_in_session_error(headless: Headless, directive: str,
                                                      error: dict[str, Any]) -> None:
    run = await headless.turn(f"Say hi {directive}", provider=PROVIDER)
    got = run.data("session.error")
    got.pop("originatingMessageId", None)
    assert got == error
    assert run.types()[-2:] == ["assistant.idle", "session.idle"]


async def test_invalid_model_is_a_404(headless: Headless) -> None:
    run = await headless.turn("Say hi", provider=PROVIDER, model="invalid-model")
    error = run.data("session.error")
    assert error["statusCode"] == 404
    assert error["originatingMessageId"] == run.sent["messageId"]
    assert "model.call_failure" in run.types() and "assistant.message" not in run.types()


async def test_huge_and_chunks_directives(headless: Headless) -> None:
    huge = await headless.turn("[[fake:scenario=huge]]", provider=PROVIDER)
    assert [len(e["data"]["deltaContent"]) for e in huge.events
            if e["type"] == "assistant.message_delta"] == [1024 * 1024]
    chunked = await headless.turn("[[fake:reply=abcdef]] [[fake:chunks=6]]", provider=PROVIDER)
    assert [e["data"]["deltaContent"] for e in chunked.events
            if e["type"] == "assistant.message_delta"] == list("abcdef")


async def test_sessions_stream_independently(headless: Headless) -> None:
    slow, fast = await asyncio.gather(
        headless.turn("[[fake:reply=slow one two]] [[fake:delay=0.4]]", provider=PROVIDER),
        headless.turn("[[fake:reply=fast]]", provider=PROVIDER))
    assert (slow.text, fast.text) == ("slow one two", "fast")
    # The fast session finished while the slow one was still between its chunks.
    assert fast.first_delta_at is not None and slow.first_delta_at is not None
    assert fast.first_delta_at < slow.first_delta_at


async def test_a_second_send_is_queued_and_one_idle_ends_both(headless: Headless) -> None:
    session_id = str(uuid.uuid4())
    run = SessionRun(session_id)
    with headless.conn.subscribe(session_id) as sub:
        await headless.conn.request("session.create", headless.create_params(
            session_id, "S", headless.home, PROVIDER))
        for prompt in ("first [[fake:delay=0.2]]", "second"):
            await headless.conn.request("session.send",
                                        {"sessionId": session_id, "prompt": prompt})
        await asyncio.wait_for(run.collect(sub), 30)
    types = run.types()
    assert types.count("user.message") == 2 and types.count("assistant.message") == 2
    assert types.count("session.idle") == 1 and types[-1] == "session.idle"


async def test_abort_a_hanging_turn(headless: Headless) -> None:
    session_id = str(uuid.uuid4())
    run = SessionRun(session_id)
    with headless.conn.subscribe(session_id) as sub:
        await headless.conn.request("session.create", headless.create_params(
            session_id, "S", headless.home, PROVIDER))
        await headless.conn.request("session.send", {"sessionId": session_id,
                                                     "prompt": "[[fake:scenario=hang]]"})
        while "assistant.message_delta" not in run.types():
            event = (await asyncio.wait_for(sub.get(), 10)).event
            if event:
                run.events.append(event)
        assert await headless.conn.request("session.abort", {"sessionId": session_id},
                                           timeout=10) == {"success": True}
        await asyncio.wait_for(run.collect(sub), 10)
    assert run.data("abort") == {"reason": "user_initiated"}
    assert run.data("session.idle") == {"aborted": True, "mode": "interactive"}
    assert run.data("assistant.idle") == {"aborted": True}
    kill_group(headless.proc.pid)  # the `sleep` grandchild of the hang scenario


async def test_crash_kills_the_whole_server_mid_stream(headless: Headless) -> None:
    other = asyncio.create_task(headless.turn("[[fake:delay=20]]", provider=PROVIDER))
    with pytest.raises(ConnectionLost):
        await headless.turn("[[fake:scenario=crash]]", provider=PROVIDER)
    with pytest.raises(ConnectionLost):
        await other
    assert await asyncio.wait_for(headless.proc.wait(), 10) == -signal.SIGKILL


async def test_agents_md_counts_unless_replaced(headless: Headless, tmp_path: Path) -> None:
    workdir = tmp_path / "req"
    workdir.mkdir()
    (workdir / "AGENTS.md").write_text("[[fake:reply=from agents]]")
    replaced = await headless.turn("hi", provider=PROVIDER, workdir=workdir)
    appended = await headless.turn("hi", provider=PROVIDER, workdir=workdir, system=None,
                                   skip_instructions=False)
    assert (replaced.text, appended.text) == ("Hello from mock.", "from agents")
    assert appended.data("system.message")["content"].startswith("You are GitHub Copilot")


async def test_recording_and_state(headless: Headless, tmp_path: Path) -> None:
    kept = await headless.turn("keep me", provider=PROVIDER, delete=False)
    gone = await headless.turn("delete me", provider=PROVIDER)
    switched = await headless.conn.request("session.model.switchTo", {
        "sessionId": kept.session_id, "modelId": "gpt-5-mini"})
    assert switched == {"status": "applied", "deferred": False, "modelId": "gpt-5-mini",
                        "message": "Model changed from gpt-4.1 to gpt-5-mini",
                        "deprecationWarnings": [], "modelState": {"modelId": "gpt-5-mini"}}
    state = headless.home / ".copilot" / "session-state" / kept.session_id
    assert "client_name: sdk\nname: \"keep me\"\n" in (state / "workspace.yaml").read_text()
    data = record(tmp_path, headless.proc.pid)
    assert data["mode"] == "headless" and data["argv"][1:] == HEADLESS_ARGV
    assert data["pid"] == headless.proc.pid
    sessions = data["sessions"]
    assert sessions[kept.session_id]["prompts"] == ["keep me"]
    assert sessions[kept.session_id]["model_switches"] == ["gpt-5-mini"]
    assert sessions[kept.session_id]["options_updates"] == [{"skipCustomInstructions": True}]
    assert sessions[kept.session_id]["deleted"] is False
    assert sessions[gone.session_id]["deleted"] is True
    assert sessions[gone.session_id]["create"]["provider"] == PROVIDER
    assert data["methods"][:1] == ["connect"]
    assert await headless.stop() == 0
    assert record(tmp_path, headless.proc.pid)["finished"] is True
    assert state.is_dir()  # not deleted, so it stays, like the real one


async def test_bad_frames_shutdown_and_eof(fake_env: dict[str, str], home: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(FAKES_BIN / "copilot"), *HEADLESS_ARGV, env=fake_env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    body = b'{"jsonrpc":"2.0","id":9,"method":'
    shutdown = b'{"jsonrpc":"2.0","id":10,"method":"runtime.shutdown","params":{}}'
    for frame in (body, shutdown):
        proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(frame) + frame)
    out, err = await asyncio.wait_for(proc.communicate(), 10)
    frames = [json.loads(part) for part in re.split(rb"Content-Length: \d+\r\n\r\n", out) if part]
    assert frames[0]["id"] is None and frames[0]["error"]["code"] == -32700
    assert frames[1] == {"jsonrpc": "2.0", "id": 10, "result": None}
    assert proc.returncode == 0 and err == b""


@pytest.mark.parametrize(("env", "args", "code", "stderr"), [
    ({"COPILOT_OFFLINE": "true"}, HEADLESS_ARGV, 1,
     ("Offline mode requires a local model provider. Set COPILOT_PROVIDER_BASE_URL to configure "
     "one.\n")),
    ({"COPILOT_OFFLINE": "true", "COPILOT_PROVIDER_BASE_URL": "http://127.0.0.1:9/v1"},
     HEADLESS_ARGV, 1, ("BYOK providers require an explicit model. Run `copilot help providers` "
                       "for configuration details.\n")),
    ({}, [*HEADLESS_ARGV, "--session-idle-timeout", "abc"], 1,
     ("error: invalid value 'abc' for '--session-idle-timeout <seconds>': invalid digit found in "
     "string\n\nFor more information, try '--help'.\n")),
    ({}, ["--headles"], 1, ("error: unexpected argument '--headles' found\n\n  tip: a similar "
     "argument exists: '--headless'\n\nUsage: copilot [OPTIONS] [COMMAND]\n\nFor more "
     "information, try '--help'.\n")),
])
async def test_headless_start_up_refusals(fake_env: dict[str, str], env: dict[str, str],
                                          args: list[str], code: int, stderr: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(FAKES_BIN / "copilot"), *args, env=fake_env | env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 10)
    assert (proc.returncode, out, err.decode()) == (code, b"", stderr)


@pytest.mark.parametrize(("scenario", "survives"), [("ok", False), ("hang_hard", True)])
async def test_sigterm(headless: Headless, scenario: str, survives: bool) -> None:
    session_id = str(uuid.uuid4())
    with headless.conn.subscribe(session_id) as sub:
        await headless.conn.request("session.create", headless.create_params(
            session_id, f"[[fake:scenario={scenario}]] [[fake:delay=0.2]]", headless.home,
            PROVIDER))
        await headless.conn.request("session.send", {"sessionId": session_id, "prompt": "x"})
        while (event := (await asyncio.wait_for(sub.get(), 10)).event) is None or (
                event["type"] != "assistant.message_delta"):
            pass
        headless.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(1)
    assert (headless.proc.returncode is None) is survives
    if not survives:
        assert headless.proc.returncode == -signal.SIGTERM
    kill_group(headless.proc.pid)


# ---------------------------------------------------------------------------- claude driver


@dataclass
class Prespawned:
    """A claude process started ahead of its request, then given a system prompt and a message."""

    lines: list[dict[str, Any]]
    silent_before_stdin: bool
    alive_after_result: bool
    returncode: int
    write_to_first_delta: float


async def read_json_line(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line, "stdout closed"
    data: dict[str, Any] = json.loads(line)
    return data


async def prespawned_turn(binary: str, env: dict[str, str], cwd: Path, system: str,
                          prompt: str, requests: list[dict[str, Any]] | None = None,
                          idle_s: float = 1.0) -> Prespawned:
    proc = await asyncio.create_subprocess_exec(
        binary, *CLAUDE_POOL_ARGV, env=env, cwd=cwd, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
        limit=64 * 1024 * 1024)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        try:  # the pool's idle time: nothing may come out before stdin says something
            early = await asyncio.wait_for(proc.stdout.readline(), idle_s)
        except TimeoutError:
            early = b""
        started = time.monotonic()
        control = requests or [{"subtype": "initialize", "systemPrompt": system}]
        for index, request in enumerate(control):
            message = {"type": "control_request", "request_id": f"req_{index}",
                       "request": request}
            proc.stdin.write((json.dumps(message) + "\n").encode())
        user = {"type": "user", "message": {"role": "user", "content": [
            {"type": "text", "text": prompt}]}, "parent_tool_use_id": None}
        proc.stdin.write((json.dumps(user) + "\n").encode())
        await proc.stdin.drain()
        lines: list[dict[str, Any]] = []
        first_delta = None
        while not lines or lines[-1]["type"] != "result":
            lines.append(await read_json_line(proc))
            if first_delta is None and lines[-1].get("event", {}).get("delta", {}).get(
                    "type") == "text_delta":
                first_delta = time.monotonic() - started
        await asyncio.sleep(0.3)
        alive = proc.returncode is None
        proc.stdin.close()
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
        lines += [json.loads(line) for line in rest.splitlines() if line.strip()]
        return Prespawned(lines, early == b"", alive, proc.returncode or 0, first_delta or -1.0)
    finally:
        kill_group(proc.pid)


def control_responses(run: Prespawned) -> list[dict[str, Any]]:
    return [line["response"] for line in run.lines if line["type"] == "control_response"]


# ---------------------------------------------------------------------------- fake claude


async def test_prespawned_claude_waits_then_takes_the_initialize_prompt(
        fake_env: dict[str, str], tmp_path: Path) -> None:
    run = await prespawned_turn(str(FAKES_BIN / "claude"), fake_env, tmp_path,
                                "Be terse. [[fake:reply=From the init prompt]]", "Say hi")
    assert run.silent_before_stdin and run.alive_after_result and run.returncode == 0
    (response,) = control_responses(run)
    assert (response["subtype"], response["request_id"]) == ("success", "req_0")
    body = response["response"]
    assert list(body) == ["commands", "agents", "output_style", "available_output_styles",
                          "models", "account", "pid"]
    assert body["account"] == {"tokenSource": "none", "apiKeySource": "none",
                               "apiProvider": "firstParty"}
    assert [c["name"] for c in body["commands"]][:3] == ["deep-research", "design-sync",
                                                         "update-config"]
    assert [line["type"] for line in run.lines][:3] == ["control_response", "system", "system"]
    result = run.lines[-1]
    assert result["result"] == "From the init prompt" and result["duration_ms"] < 1000
    records = list((tmp_path / "records").glob("claude-*.json"))
    data = json.loads(records[0].read_text())
    assert data["system_prompt"] == "Be terse. [[fake:reply=From the init prompt]]"
    assert data["system_prompt_file_content"] is None
    assert body["pid"] == data["pid"]


async def test_only_the_first_initialize_counts(fake_env: dict[str, str], tmp_path: Path) -> None:
    run = await prespawned_turn(
        str(FAKES_BIN / "claude"), fake_env, tmp_path, "", "Say hi", requests=[
            {"subtype": "initialize", "systemPrompt": "[[fake:reply=first]]"},
            {"subtype": "initialize", "systemPrompt": "[[fake:reply=second]]"},
            {"subtype": "interrupt"}, {"subtype": "no_such_subtype"}], idle_s=0.2)
    assert run.lines[-1]["result"] == "first"
    responses = control_responses(run)
    assert [r["subtype"] for r in responses] == ["success", "success", "success", "error"]
    assert "response" not in responses[2]
    assert responses[3] == {"subtype": "error", "request_id": "req_3",
                            "error": "Unsupported control request subtype: no_such_subtype"}


async def test_initialize_overrides_the_system_prompt_flag(fake_env: dict[str, str],
                                                           tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(FAKES_BIN / "claude"), *CLAUDE_POOL_ARGV, "--system-prompt", "[[fake:reply=flag]]",
        env=fake_env, cwd=tmp_path, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    lines = [{"type": "control_request", "request_id": "r",
              "request": {"subtype": "initialize", "systemPrompt": "[[fake:reply=init]]"}},
             {"type": "user", "message": {"role": "user", "content": "hi"}}]
    stdin = "".join(json.dumps(line) + "\n" for line in lines).encode()
    out, _ = await asyncio.wait_for(proc.communicate(stdin), 30)
    assert json.loads(out.splitlines()[-1])["result"] == "init"


# ---------------------------------------------------------------------------- real CLIs


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Copilot unpacks itself into XDG_CACHE_HOME on first run (REAL_CLI_CACHE_DIR keeps one)."""
    given = os.environ.get("REAL_CLI_CACHE_DIR")
    yield Path(given) if given else tmp_path_factory.mktemp("xdg-cache")


async def model_requests(base_url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/_fake/requests") as resp:
        data: list[dict[str, Any]] = await resp.json()
    return [r["body"] for r in data if r["method"] == "POST" and isinstance(r["body"], dict)
            and "messages" in r["body"]]


@pytest.mark.realcli
@pytest.mark.parametrize("cli", ["copilot", "claude"])
async def test_real_long_lived_modes_send_exactly_the_system_prompt(
        cli: str, tmp_path: Path, shared_cache: Path) -> None:
    binary = find_real_cli(cli)
    if binary is None:
        pytest.fail(f"the real {cli} CLI is not installed; make test installs it into .tools")
    system = f"EXACT-SYSTEM-{uuid.uuid4().hex[:8]}: answer briefly.\nSecond line."
    home = tmp_path / "home"
    home.mkdir()
    async with running_model_server() as base_url:
        env = real_cli_env(cli, base_url, home, shared_cache) | {"COPILOT_MODEL": "gpt-4.1"}
        if cli == "copilot":
            provider = {"type": "openai", "baseUrl": f"{base_url}/v1",
                        "apiKey": env["COPILOT_PROVIDER_API_KEY"]}
            real = await start_headless(binary, env, home)
            fake = await start_headless(str(FAKES_BIN / "copilot"), env, home)
            try:
                for server in (real, fake):
                    assert (await server.conn.request("connect", {}, timeout=60))[
                        "protocolVersion"] == 3
                    await server.turn("warm up", system=system, provider=provider)
                real_run = await real.turn("Say hi [[fake:reply=Real answer here]]",
                                           system=system, provider=provider)
                fake_run = await fake.turn("Say hi [[fake:reply=Real answer here]]",
                                           system=system, provider=provider)
            finally:
                assert await real.stop() == 0
                await fake.stop()
            sent = await model_requests(base_url)
            # Replace mode: the model sees exactly the client's system prompt, nothing else.
            assert sent[-1]["messages"][0] == {"role": "system", "content": system}
            assert real_run.text == fake_run.text == "Real answer here"
            core = {"user.message", "system.message", "assistant.turn_start",
                    "assistant.message_delta", "assistant.usage", "assistant.message",
                    "assistant.turn_end", "assistant.idle", "session.idle"}
            assert [t for t in fake_run.types() if t in core] == [
                t for t in real_run.types() if t in core]
            for kind in ("user.message", "system.message", "assistant.message", "session.idle"):
                assert set(fake_run.data(kind)) == set(real_run.data(kind)), kind
            assert set(fake_run.data("assistant.usage")) <= set(real_run.data("assistant.usage"))
            assert set(fake_run.created) == set(real_run.created)
            assert real_run.deleted == fake_run.deleted == {"success": True}
            leftover = [p.name for p in (home / ".copilot" / "session-state").iterdir()
                        if not p.name.startswith(".")]
            assert leftover == []
        else:
            real_claude = await prespawned_turn(binary, env, tmp_path, system,
                                                "Say hi [[fake:reply=Real answer here]]")
            fake_claude = await prespawned_turn(str(FAKES_BIN / "claude"), env, tmp_path,
                                                system, "Say hi [[fake:reply=Real answer here]]")
            sent = [b for b in await model_requests(base_url)
                    if not (b.get("output_config") or {}).get("format")]  # not the title
            blocks = sent[-1]["system"]
            # Claude Code prepends its billing header and one SDK line; the rest is ours, exactly.
            assert blocks[0]["text"].startswith("x-anthropic-billing-header: cc_version=2.1.197")
            assert [b["text"] for b in blocks[1:]] == [CLAUDE_SDK_PREFIX, system]
            for run in (real_claude, fake_claude):
                assert run.silent_before_stdin and run.alive_after_result
                assert run.returncode == 0 and run.lines[-1]["result"] == "Real answer here"
            real_response, fake_response = (control_responses(r)[0] for r in (real_claude,
                                                                                fake_claude))
            real_response["response"].pop("pid")
            fake_response["response"].pop("pid")
            assert fake_response == real_response
            assert [line["type"] for line in fake_claude.lines] == [
                line["type"] for line in real_claude.lines]
