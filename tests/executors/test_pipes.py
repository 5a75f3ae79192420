"""The read side of a CLI's pipes: lines cut from reads however they split, frames cut the same way,
undecoded skipping of session events nobody reads, and one session's subscription queue."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from executors.cli.pipes import HIGH_WATER
from executors.cli.process import CliProcess
from executors.copilot.framing import FrameBuffer, decode_message, encode_frame
from executors.copilot.rpc import (
    ConnectionLost,
    Notification,
    ProtocolViolation,
    Subscription,
    SubscriptionOverflow,
)
from executors.errors import CliOutputError

SESSION = "0f8fad5b-d9cb-469f-a165-70867728950e"


def event_frame(kind: str, data: dict[str, object] | None = None, session: str = SESSION) -> bytes:
    """A session.event frame as the CLI writes it (compact JSON, this key order)."""
    return encode_frame({"jsonrpc": "2.0", "method": "session.event",
                         "params": {"sessionId": session, "event": {"type": kind, "data": data or {}}}})


async def spawn_python(tmp_path: Path, code: str) -> CliProcess:
    return await CliProcess.spawn("test", [sys.executable, "-c", code], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})


# ---------------------------------------------------------------------------- frames


@pytest.mark.parametrize("step", [1, 3, 7, 64, 100_000])
def test_frames_are_cut_the_same_however_the_reads_split(step: int) -> None:
    bodies = [{"jsonrpc": "2.0", "id": i, "result": "x" * i} for i in range(40)]
    stream = b"".join(encode_frame(b) for b in bodies)
    stream += b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"  # a header we do not send, parsed
    frames = FrameBuffer("test")
    cut = [body for i in range(0, len(stream), step) for body in frames.feed(stream[i:i + step])]
    assert [json.loads(c) for c in cut] == [*bodies, {}]
    assert frames.eof().message == "the test server closed stdout"


def test_a_stream_that_ends_inside_a_frame_says_so() -> None:
    frames = FrameBuffer("test")
    assert frames.feed(b"Content-Length: 10\r\n\r\n{\"a\"") == []
    assert frames.eof().message == "the test server stopped mid-frame"


@pytest.mark.parametrize(("data", "message"), [
    (b"Content-Length: 99999\r\n\r\n", "a frame of 99999 bytes is over 1000"),
    (b"Content-Length: -1\r\n\r\n", "a frame of -1 bytes is over 1000"),
    (b"X-Other: 1\r\n\r\n", "a frame has no Content-Length header"),
    (b"Content-Length: ten\r\n\r\n", "bad Content-Length b'ten'"),
    (b"X-Pad: " + b"a" * 9000, "a frame header is over 8192 bytes"),  # no line end yet, already too long
])
def test_bad_frames_break_the_stream(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolViolation, match=message.replace("(", r"\(").replace("'", ".")):
        FrameBuffer("test", max_body=1000).feed(data)


def test_session_events_nobody_reads_are_dropped_before_decoding() -> None:
    reads = frozenset({b"assistant.message_delta"})
    body = event_frame("assistant.streaming_delta", {"totalResponseSizeBytes": 5}).split(b"\r\n\r\n", 1)[1]
    assert decode_message(body, "t", reads) is None
    assert decode_message(body, "t") == json.loads(body)  # no filter
    spaced = json.dumps(json.loads(body)).encode()
    assert decode_message(spaced, "t", reads) == json.loads(body)  # another layout: decoded as usual
    read = event_frame("assistant.message_delta", {"deltaContent": '","event":{"type":"assistant.streaming_delta"'})
    read_body = read.split(b"\r\n\r\n", 1)[1]
    assert decode_message(read_body, "t", reads) == json.loads(read_body)  # the type is read where it is
    answer = b'{"jsonrpc":"2.0","id":7,"result":{"sessionId":"x"}}'
    assert decode_message(answer, "t", reads) == json.loads(answer)  # answers are always read


def test_frames_that_are_not_objects_are_dropped() -> None:
    assert decode_message(b"[1]", "t") is None
    assert decode_message(b"{oops", "t") is None
    assert decode_message(b"\xff", "t") is None


# ---------------------------------------------------------------------------- subscriptions


async def test_a_subscription_delivers_in_order_then_its_error() -> None:
    sub = Subscription("t", SESSION, max_pending=10, unsubscribe=lambda _: None)
    notes = [Notification("session.event", {"n": i}) for i in range(3)]
    waiting = asyncio.ensure_future(sub.get())
    await asyncio.sleep(0)
    sub.push(notes[0])
    assert await waiting == notes[0]
    sub.push(notes[1])
    sub.push(notes[2])
    sub.fail(ConnectionLost("t", "gone"))
    sub.push(Notification("session.event", {"late": True}))  # after the failure: dropped
    assert [await sub.get(), await sub.get()] == notes[1:]
    for _ in range(2):  # the error stays
        with pytest.raises(ConnectionLost, match="gone"):
            await sub.get()


async def test_a_subscriber_that_falls_behind_is_cut_off() -> None:
    sub = Subscription("t", SESSION, max_pending=2, unsubscribe=lambda _: None)
    for i in range(3):
        sub.push(Notification("session.event", {"n": i}))
    assert [(await sub.get()).params for _ in range(2)] == [{"n": 0}, {"n": 1}]
    with pytest.raises(SubscriptionOverflow, match="fell 2 notifications behind"):
        await sub.get()


# ---------------------------------------------------------------------------- CLI stdout lines


async def test_lines_split_across_writes_and_the_unterminated_rest(tmp_path: Path) -> None:
    code = ("import sys, time\nw = sys.stdout.buffer\n"
            "for part in (b'one\\ntw', b'o\\n', b'three', b'\\nfour\\nfi', b've'):\n"
            "    w.write(part); w.flush(); time.sleep(0.02)\n")
    process = await spawn_python(tmp_path, code)
    try:
        lines = [await process.readline() for _ in range(6)]
        assert lines == [b"one\n", b"two\n", b"three\n", b"four\n", b"five", b""]
        assert await process.wait() == (0, "")
    finally:
        await process.close(0.5)


async def test_a_burst_beyond_the_high_water_mark_arrives_whole(tmp_path: Path) -> None:
    # The reader pauses the pipe above the mark and resumes it as it catches up: nothing is lost.
    count = 4 * HIGH_WATER // 1000
    code = f"import sys\nsys.stdout.buffer.write(b''.join(b'%0999d\\n' % i for i in range({count})))\n"
    process = await spawn_python(tmp_path, code)
    try:
        await asyncio.sleep(0.5)  # all of it written (or blocked on the paused pipe) before reading
        lines = [await process.readline() for _ in range(count)]
        assert lines == [b"%0999d\n" % i for i in range(count)]
        assert await process.readline() == b""
    finally:
        await process.close(0.5)


async def test_a_line_over_the_limit_is_an_output_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("executors.cli.process.LINE_LIMIT", 1000)
    process = await spawn_python(tmp_path, "import sys\nsys.stdout.write('x' * 5000)\n")
    try:
        with pytest.raises(CliOutputError, match="printed a line over 1000 bytes"):
            while await process.readline():
                pass
    finally:
        await process.close(0.5)


async def test_stderr_is_kept_and_stdin_reaches_the_child(tmp_path: Path) -> None:
    code = "import sys\ndata = sys.stdin.buffer.read()\nsys.stderr.write('got %d' % len(data))\nsys.exit(3)\n"
    process = await spawn_python(tmp_path, code)
    try:
        await process.send(b"z" * (1024 * 1024))  # over a pipe's buffer: the write waits for room
        assert await process.wait() == (3, "got 1048576")
        assert process.returncode == 3
    finally:
        await process.close(0.5)


async def test_stdin_closed_is_a_broken_pipe_but_a_prompt_to_a_dead_cli_is_not_an_error(tmp_path: Path) -> None:
    process = await spawn_python(tmp_path, "import sys\nsys.stdin.close()\nsys.exit(5)\n")
    try:
        assert await process.wait_exit(10) == 5
        await process.send(b"a prompt nobody reads")  # the exit status tells what happened
        with pytest.raises(BrokenPipeError):
            await process.write(b"more")
    finally:
        await process.close(0.5)
