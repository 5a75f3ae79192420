"""The JSON-RPC client against the fake `copilot --headless --stdio` and small scripted servers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from executors.copilot.jsonrpc import JsonRpcConnection
from executors.copilot.rpc import (
    ConnectionLost,
    Notification,
    ProtocolViolation,
    RpcCallError,
    Subscription,
    SubscriptionOverflow,
)
from tests.conftest import FAKE_BIN

PROVIDER = {"type": "openai", "baseUrl": "http://127.0.0.1:9/v1", "apiKey": "key-test"}
HEADLESS_ARGV = ["--headless", "--no-auto-update", "--log-level", "warning", "--stdio",
                 "--no-auto-login"]


@dataclass
class Turn:
    """What one session.send produced, up to session.idle or session.error."""

    deltas: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    idle: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return "".join(self.deltas)


async def first_delta(sub: Subscription) -> str:
    while True:
        event = (await asyncio.wait_for(sub.get(), 10)).event
        if event and event["type"] == "assistant.message_delta":
            return str(event["data"]["deltaContent"])


async def read_turn(sub: Subscription) -> Turn:
    turn = Turn()
    async for note in sub:
        event = note.event
        if event is None:
            continue
        turn.types.append(event["type"])
        if event["type"] == "assistant.message_delta":
            turn.deltas.append(event["data"]["deltaContent"])
        elif event["type"] == "session.error":
            turn.error = event["data"]
        elif event["type"] == "session.idle":
            turn.idle = event["data"]
            return turn
    raise AssertionError("unreachable")


@dataclass
class Server:
    """A spawned server process (own process group) and the connection to it."""

    proc: asyncio.subprocess.Process
    conn: JsonRpcConnection
    home: Path

    async def create(self, system: str = "Be brief.", **extra: Any) -> str:
        params = {"sessionId": str(uuid.uuid4()), "model": "gpt-4.1", "provider": PROVIDER,
                  "systemMessage": {"mode": "replace", "content": system},
                  "availableTools": [], "streaming": True, **extra}
        result = await self.conn.request("session.create", params, timeout=10)
        assert result["sessionId"] == params["sessionId"]
        return str(params["sessionId"])

    async def ask(self, prompt: str, system: str = "Be brief.") -> Turn:
        session_id = str(uuid.uuid4())
        with self.conn.subscribe(session_id) as sub:
            params = {"sessionId": session_id, "model": "gpt-4.1", "provider": PROVIDER,
                      "systemMessage": {"mode": "replace", "content": system},
                      "availableTools": [], "streaming": True}
            await self.conn.request("session.create", params, timeout=10)
            await self.conn.request("session.send", {"sessionId": session_id, "prompt": prompt},
                                    timeout=10)
            turn = await asyncio.wait_for(read_turn(sub), 30)
        await self.conn.request("session.delete", {"sessionId": session_id}, timeout=10)
        return turn

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def spawn(argv: list[str], env: dict[str, str], home: Path,
                **options: Any) -> AsyncIterator[Server]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True)
    server = Server(proc, JsonRpcConnection.for_process(proc, **options), home)
    try:
        yield server
    finally:
        await server.conn.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            server.kill_group()
            await proc.wait()
        server.kill_group()  # grandchildren (hang scenarios) share the group
        await proc.communicate()


@pytest.fixture
async def copilot(cli_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Server]:
    """The fake copilot in headless mode, connected."""
    async with spawn([str(FAKE_BIN / "copilot"), *HEADLESS_ARGV], cli_env,
                     Path(cli_env["HOME"])) as server:
        result = await server.conn.request("connect", {}, timeout=10)
        assert result["protocolVersion"] == 3
        yield server


def script_server(tmp_path: Path, body: str) -> list[str]:
    """A tiny server (a real process) with helpers to read and write Content-Length frames."""
    path = tmp_path / "server.py"
    path.write_text(
        "import json, os, sys, time\n"
        "def send(obj):\n"
        "    data = json.dumps(obj).encode()\n"
        "    sys.stdout.buffer.write(b'Content-Length: %d\\r\\n\\r\\n' % len(data) + data)\n"
        "    sys.stdout.buffer.flush()\n"
        "def raw(data):\n"
        "    sys.stdout.buffer.write(data); sys.stdout.buffer.flush()\n"
        "def read():\n"
        "    length = None\n"
        "    while True:\n"
        "        line = sys.stdin.buffer.readline()\n"
        "        if not line: sys.exit(0)\n"
        "        if line == b'\\r\\n': break\n"
        "        length = int(line.split(b':')[1])\n"
        "    return json.loads(sys.stdin.buffer.read(length))\n" + body)
    return [sys.executable, str(path)]


# ---------------------------------------------------------------------------- the fake copilot


async def test_calls_are_matched_to_answers_and_errors_are_typed(copilot: Server) -> None:
    status, auth = await asyncio.gather(copilot.conn.request("status.get"),
                                        copilot.conn.request("auth.getStatus"))
    assert status == {"version": "1.0.102", "protocolVersion": 3}
    assert auth == {"isAuthenticated": False, "statusMessage": "Not authenticated"}
    with pytest.raises(RpcCallError) as unknown:
        await copilot.conn.request("no.such.method")
    assert (unknown.value.code, unknown.value.message) == (-32601, "Unhandled method no.such.method")
    with pytest.raises(RpcCallError) as missing:
        await copilot.conn.request("session.send", {"sessionId": "nope", "prompt": "x"})
    assert missing.value.code == -32603
    assert "Session not found for sessionId: nope" in missing.value.message


async def test_create_send_stream_delete(copilot: Server) -> None:
    session_id = str(uuid.uuid4())
    with copilot.conn.subscribe(session_id) as sub:
        await copilot.create("Be brief. [[fake:reply=One two three four]] [[fake:chunks=4]]",
                             sessionId=session_id)
        sent = await copilot.conn.request("session.send",
                                          {"sessionId": session_id, "prompt": "Say hi"})
        assert isinstance(sent["messageId"], str)
        turn = await asyncio.wait_for(read_turn(sub), 10)
    assert turn.deltas == ["One", " two", " three", " four"]
    assert turn.error is None and turn.idle == {"mode": "interactive"}
    assert turn.types.index("user.message") < turn.types.index("assistant.message_delta")
    assert turn.types[-3:] == ["model.messages_snapshot", "assistant.idle", "session.idle"]
    state = copilot.home / ".copilot" / "session-state" / session_id
    assert (state / "events.jsonl").is_file()
    assert await copilot.conn.request("session.delete", {"sessionId": session_id}) == {
        "success": True}
    assert not state.exists()


async def test_abort_ends_the_turn_and_the_session_stays_usable(copilot: Server) -> None:
    session_id = str(uuid.uuid4())
    with copilot.conn.subscribe(session_id) as sub:
        await copilot.create(sessionId=session_id)
        await copilot.conn.request("session.send", {"sessionId": session_id,
                                                    "prompt": "[[fake:scenario=hang]]"})
        assert await first_delta(sub) == "Hello"
        started = time.monotonic()
        assert await copilot.conn.request("session.abort", {"sessionId": session_id},
                                          timeout=10) == {"success": True}
        aborted = await asyncio.wait_for(read_turn(sub), 10)
        assert time.monotonic() - started < 5
        assert aborted.idle == {"aborted": True, "mode": "interactive"}
        assert "abort" in aborted.types
        await copilot.conn.request("session.send", {"sessionId": session_id, "prompt": "again"})
        again = await asyncio.wait_for(read_turn(sub), 10)
    assert again.text == "Hello from mock."
    copilot.kill_group()  # the hang scenario left a `sleep` in the group


async def test_sixteen_sessions_stream_concurrently_to_their_own_subscribers(
        copilot: Server) -> None:
    started = time.monotonic()
    turns = await asyncio.gather(*(
        copilot.ask(f"[[fake:reply=Answer {i} is here]] [[fake:delay=0.3]]") for i in range(16)))
    elapsed = time.monotonic() - started
    assert [t.text for t in turns] == [f"Answer {i} is here" for i in range(16)]
    # 16 sessions x 3 chunks x 0.3 s would take 14.4 s one after another.
    assert elapsed < 8, elapsed
    leftover = [p.name for p in (copilot.home / ".copilot" / "session-state").iterdir()
                if not p.name.startswith(".")]
    assert leftover == []


async def test_server_death_mid_stream_fails_subscribers_and_calls(copilot: Server) -> None:
    crashing, waiting = str(uuid.uuid4()), str(uuid.uuid4())
    with copilot.conn.subscribe(crashing) as sub, copilot.conn.subscribe(waiting) as other:
        await copilot.create(sessionId=crashing)
        await copilot.create("[[fake:delay=30]]", sessionId=waiting)
        await copilot.conn.request("session.send", {"sessionId": waiting, "prompt": "slow"})
        await copilot.conn.request("session.send", {"sessionId": crashing,
                                                    "prompt": "[[fake:scenario=crash]]"})
        seen: list[Notification] = []
        with pytest.raises(ConnectionLost):
            while True:
                seen.append(await asyncio.wait_for(sub.get(), 10))
        # Everything printed before the crash was delivered first.
        deltas = [n.event["data"]["deltaContent"] for n in seen
                  if n.event and n.event["type"] == "assistant.message_delta"]
        assert deltas == ["Hello"]
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(read_turn(other), 10)
    with pytest.raises(ConnectionLost):
        await copilot.conn.request("status.get")
    assert copilot.conn.error is not None
    assert await asyncio.wait_for(copilot.proc.wait(), 5) == -signal.SIGKILL


async def test_pending_call_fails_when_the_server_dies(copilot: Server) -> None:
    session_id = str(uuid.uuid4())
    with copilot.conn.subscribe(session_id) as sub:
        await copilot.create(sessionId=session_id)
        await copilot.conn.request("session.send", {"sessionId": session_id,
                                                    "prompt": "[[fake:scenario=hang_hard]]"})
        await first_delta(sub)
    # A wedged session never answers session.abort: the call waits until the process dies.
    pending = asyncio.create_task(copilot.conn.request("session.abort",
                                                       {"sessionId": session_id}))
    await asyncio.sleep(0.5)
    assert not pending.done()
    os.kill(copilot.proc.pid, signal.SIGKILL)  # not the group: the `sleep` keeps stdout open
    started = time.monotonic()
    with pytest.raises(ConnectionLost, match="exited") as lost:
        await asyncio.wait_for(pending, 10)
    assert time.monotonic() - started < 5
    assert lost.value.exit_code == -signal.SIGKILL


async def test_request_timeout_forgets_the_call(copilot: Server) -> None:
    session_id = str(uuid.uuid4())
    with copilot.conn.subscribe(session_id) as sub:
        await copilot.create(sessionId=session_id)
        await copilot.conn.request("session.send", {"sessionId": session_id,
                                                    "prompt": "[[fake:scenario=hang_hard]]"})
        await first_delta(sub)
    with pytest.raises(TimeoutError):
        await copilot.conn.request("session.abort", {"sessionId": session_id}, timeout=0.5)
    assert await copilot.conn.request("status.get", timeout=10) == {
        "version": "1.0.102", "protocolVersion": 3}
    copilot.kill_group()


async def test_a_slow_subscriber_is_cut_off_without_stalling_others(
        cli_env: dict[str, str]) -> None:
    async with spawn([str(FAKE_BIN / "copilot"), *HEADLESS_ARGV], cli_env,
                     Path(cli_env["HOME"]), max_pending=60) as server:
        await server.conn.request("connect", {})
        flooded = str(uuid.uuid4())
        with server.conn.subscribe(flooded) as sub:
            await server.create("[[fake:chunks=200]]", sessionId=flooded)
            prompt = "[[fake:reply=" + "word " * 200 + "]]"
            await server.conn.request("session.send", {"sessionId": flooded, "prompt": prompt})
            await asyncio.sleep(1)  # nobody reads: far more than 60 notifications arrive
            with pytest.raises(SubscriptionOverflow):
                while True:
                    await asyncio.wait_for(sub.get(), 10)
        turn = await server.ask("[[fake:reply=still fine]]")
        assert turn.text == "still fine"


# ---------------------------------------------------------------------------- scripted servers


async def test_server_requests_are_answered(tmp_path: Path, cli_env: dict[str, str]) -> None:
    argv = script_server(tmp_path, (
        "read()\n"  # the client's first request; answered only after the round trip below
        "send({'jsonrpc': '2.0', 'id': 'srv-1', 'method': 'permission.request',"
        " 'params': {'sessionId': 's1'}})\n"
        "answer = read()\n"
        "send({'jsonrpc': '2.0', 'id': 1, 'result': answer})\n"
        "read()\n"))
    async with spawn(argv, cli_env, tmp_path) as server:
        answer = await server.conn.request("go", timeout=10)
    assert answer == {"jsonrpc": "2.0", "id": "srv-1",
                      "error": {"code": -32601, "message": "Unhandled method permission.request"}}


async def test_a_custom_handler_answers_server_requests(tmp_path: Path,
                                                        cli_env: dict[str, str]) -> None:
    argv = script_server(tmp_path, (
        "read()\n"
        "send({'jsonrpc': '2.0', 'id': 7, 'method': 'userInput.request', 'params': {'q': 1}})\n"
        "send({'jsonrpc': '2.0', 'id': 1, 'result': read()})\n"
        "read()\n"))

    async def handler(method: str, params: Any) -> Any:
        return {"method": method, "params": params}

    async with spawn(argv, cli_env, tmp_path, handler=handler) as server:
        answer = await server.conn.request("go", timeout=10)
    assert answer["result"] == {"method": "userInput.request", "params": {"q": 1}}


async def test_bad_json_frames_are_skipped(tmp_path: Path, cli_env: dict[str, str]) -> None:
    argv = script_server(tmp_path, (
        "read()\n"
        "raw(b'Content-Length: 5\\r\\n\\r\\n{oops')\n"
        "raw(b'Content-Length: 2\\r\\n\\r\\n[]')\n"
        "send({'jsonrpc': '2.0', 'method': 'session.event', 'params': {'sessionId': 's1',"
        " 'event': {'type': 'x'}}})\n"
        "send({'jsonrpc': '2.0', 'id': 1, 'result': 'ok'})\n"
        "read()\n"))
    async with spawn(argv, cli_env, tmp_path) as server:
        with server.conn.subscribe("s1") as sub:
            assert await server.conn.request("go", timeout=10) == "ok"
            note = await asyncio.wait_for(sub.get(), 5)
    assert note == Notification("session.event", {"sessionId": "s1", "event": {"type": "x"}})


@pytest.mark.parametrize("frame", [
    pytest.param(b"Content-Length: 999999\r\n\r\n", id="body-over-limit"),
    pytest.param(b"Content-Type: x\r\n\r\n{}", id="no-content-length"),
    pytest.param(b"X-Pad: " + b"a" * 9000 + b"\r\n", id="header-over-limit"),
    pytest.param(b"Content-Length: ten\r\n\r\n", id="bad-length"),
])
async def test_broken_framing_fails_the_connection(tmp_path: Path, cli_env: dict[str, str],
                                                   frame: bytes) -> None:
    (tmp_path / "frame.bin").write_bytes(frame)
    argv = script_server(tmp_path, f"read()\nraw(open({str(tmp_path / 'frame.bin')!r}, 'rb')"
                                   ".read())\ntime.sleep(30)\n")
    async with spawn(argv, cli_env, tmp_path, max_body_bytes=1000) as server:
        with server.conn.subscribe("s1") as sub:
            with pytest.raises(ProtocolViolation):
                await server.conn.request("go", timeout=10)
            with pytest.raises(ProtocolViolation):
                await sub.get()
        server.kill_group()


async def test_stdout_closed_while_the_process_lives(tmp_path: Path,
                                                     cli_env: dict[str, str]) -> None:
    argv = script_server(tmp_path, "read()\nos.close(1)\ntime.sleep(30)\n")
    async with spawn(argv, cli_env, tmp_path) as server:
        with pytest.raises(ConnectionLost, match="closed stdout"):
            await server.conn.request("go", timeout=10)
        assert server.proc.returncode is None
        server.kill_group()


async def test_closing_the_connection_ends_the_server(copilot: Server) -> None:
    session_id = str(uuid.uuid4())
    sub = copilot.conn.subscribe(session_id)
    await copilot.conn.close()
    with pytest.raises(ConnectionLost):
        await sub.get()
    with pytest.raises(ConnectionLost):
        await copilot.conn.request("status.get")
    assert await asyncio.wait_for(copilot.proc.wait(), 5) == 0  # EOF on stdin: a clean exit


def test_notification_event_accessor() -> None:
    event = {"type": "session.idle", "data": {}}
    assert Notification("session.event", {"sessionId": "a", "event": event}).event == event
    assert Notification("session.lifecycle", {"sessionId": "a", "type": "x"}).event is None
