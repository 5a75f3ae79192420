"""Reasoning, reasoning effort and images in the fakes, held to what the real CLIs print.

Captured with copilot 1.0.102 and claude 2.1.197 against the fake model server (README, "Reasoning
and images"); test_fakes_media_real.py runs the real CLIs and the fakes side by side and compares.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import test_fakes
import test_fakes_persistent
from model_server import image_parts, message_texts, running_model_server
from test_fakes import (
    CLAUDE,
    COPILOT,
    FAKES_BIN,
    Finished,
    Sandbox,
    run_fake,
)
from test_fakes_persistent import PROVIDER, record

# The fixtures of the two suites this one extends.
sandbox = test_fakes.sandbox
model_url = test_fakes.model_url
real_cli_cache = test_fakes.real_cli_cache
home = test_fakes_persistent.home
fake_env = test_fakes_persistent.fake_env
headless = test_fakes_persistent.headless

THINKING = "Let me think about it."


def png(rgb: tuple[int, int, int]) -> bytes:
    """A 2x2 PNG of one colour."""
    raw = b"".join(b"\x00" + bytes(rgb) * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return len(data).to_bytes(4, "big") + kind + data + crc.to_bytes(4, "big")

    header = (2).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


RED = png((255, 0, 0))
RED_SHA = hashlib.sha256(RED).hexdigest()


def claude_stdin(prompt: str, *, image: bytes | None = None, effort: str | None = None) -> str:
    """What the bridge writes: effort control requests, then one user message with its blocks."""
    lines: list[dict[str, Any]] = []
    if effort is not None:
        lines.append({"type": "control_request", "request_id": "bridge-effort",
                      "request": {"subtype": "apply_flag_settings", "settings": {"effortLevel": effort}}})
    content: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
    if image is not None:
        content.append({"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                    "data": base64.b64encode(image).decode()}})
    lines.append({"type": "user", "message": {"role": "user", "content": content}})
    return "".join(json.dumps(line) + "\n" for line in lines)


def copilot_args(sandbox: Sandbox, *extra: str) -> list[str]:
    return [*COPILOT.argv(str(FAKES_BIN / "copilot"), sandbox.workdir)[1:], *extra]


def types(done: Finished) -> list[str]:
    return [e["type"] for e in done.events]


# ---------------------------------------------------------------------------- copilot one-shot


def test_copilot_streams_reasoning_before_the_answer(sandbox: Sandbox) -> None:
    done = run_fake(COPILOT, sandbox, f"Hi [[fake:reasoning={THINKING}]]",
                    args=copilot_args(sandbox, "--reasoning-effort", "high"))
    assert done.returncode == 0, done.stderr
    kinds = types(done)
    first = kinds.index("assistant.reasoning_delta")
    assert kinds[first:first + 4] == ["assistant.reasoning_delta"] * 3 + ["assistant.message_start"]
    deltas = [e["data"] for e in done.events if e["type"] == "assistant.reasoning_delta"]
    assert "".join(d["deltaContent"] for d in deltas) == THINKING
    message = next(e["data"] for e in done.events if e["type"] == "assistant.message")
    whole = next(e["data"] for e in done.events if e["type"] == "assistant.reasoning")
    assert message["reasoningText"] == THINKING == whole["content"]
    assert whole["reasoningId"] == deltas[0]["reasoningId"]
    assert kinds.index("assistant.reasoning") == kinds.index("assistant.message") + 1


def test_copilot_attachments_are_read_by_their_bytes(sandbox: Sandbox) -> None:
    (sandbox.workdir / "image-1.jpg").write_bytes(RED)  # a PNG named .jpg: copilot says image/png
    (sandbox.workdir / "notes.png").write_bytes(b"no image")
    done = run_fake(COPILOT, sandbox, "Describe", args=copilot_args(
        sandbox, "--attachment", str(sandbox.workdir / "image-1.jpg"),
        "--attachment", str(sandbox.workdir / "notes.png")))
    assert done.returncode == 0, done.stderr
    user = next(e["data"] for e in done.events if e["type"] == "user.message")
    assert list(user)[:3] == ["content", "transformedContent", "attachments"]
    image, other = user["attachments"]
    assert image == {"type": "file", "path": str(sandbox.workdir / "image-1.jpg"),
                     "displayName": "image-1.jpg", "mimeType": "image/png",
                     "data": base64.b64encode(RED).decode()}
    assert other == {"type": "file", "path": str(sandbox.workdir / "notes.png"), "displayName": "notes.png"}
    pid = int(next(p.stem.split("-")[1] for p in sandbox.records.glob("copilot-*.json")))
    recorded = sandbox.record("copilot", pid)["attachments"]
    assert [(a["displayName"], a["mimeType"], a["sha256"]) for a in recorded] == [
        ("image-1.jpg", "image/png", RED_SHA), ("notes.png", None, hashlib.sha256(b"no image").hexdigest())]


@pytest.mark.parametrize(("name", "message"), [
    ("missing.png", "--attachment file not found: {path}\n"),
    ("drawing.svg", "--attachment file type not supported (must be an image or native document): {path}\n"),
])
def test_copilot_refuses_attachments_like_the_real_one(sandbox: Sandbox, name: str, message: str) -> None:
    path = sandbox.workdir / name
    if name.endswith(".svg"):
        path.write_text("<svg/>")
    done = run_fake(COPILOT, sandbox, "Describe", args=copilot_args(sandbox, "--attachment", str(path)))
    assert (done.returncode, done.stdout, done.stderr) == (1, "", message.format(path=path))


# ---------------------------------------------------------------------------- copilot headless


async def test_headless_takes_the_effort_blobs_and_streams_reasoning(headless: Any, tmp_path: Path) -> None:
    session_id = str(uuid.uuid4())
    params = headless.create_params(session_id, "Be terse.", tmp_path, PROVIDER, reasoningEffort="xhigh")
    blob = {"type": "blob", "data": base64.b64encode(RED).decode(), "mimeType": "image/png",
            "displayName": "image-1.png"}
    events: list[dict[str, Any]] = []
    with headless.conn.subscribe(session_id) as sub:
        created = await headless.conn.request("session.create", params, timeout=30)
        await headless.conn.request("session.send", {"sessionId": session_id, "attachments": [blob],
                                                     "prompt": f"Hi [[fake:reasoning={THINKING}]]"}, timeout=30)
        async for note in sub:
            if note.event is not None:
                events.append(note.event)
                if note.event["type"] == "session.idle":
                    break
    assert created["modelState"] == {"modelId": "gpt-4.1", "reasoningEffort": "xhigh"}
    start = next(e["data"] for e in events if e["type"] == "session.start")
    assert start["reasoningEffort"] == "xhigh"
    user = next(e["data"] for e in events if e["type"] == "user.message")
    assert user["attachments"] == [{"type": "blob", "displayName": "image-1.png", "mimeType": "image/png",
                                    "data": blob["data"]}]
    kinds = [e["type"] for e in events]
    first = kinds.index("assistant.reasoning_delta")
    assert kinds[first - 1:first + 2] == ["assistant.streaming_delta", "assistant.reasoning_delta",
                                          "assistant.streaming_delta"]
    assert "".join(e["data"]["deltaContent"] for e in events if e["type"] == "assistant.reasoning_delta") == THINKING
    assert kinds.index("assistant.reasoning") > kinds.index("assistant.message")
    sessions = record(tmp_path, headless.proc.pid)["sessions"]
    assert sessions[session_id]["attachments"] == [[{
        "type": "blob", "path": None, "displayName": "image-1.png", "mimeType": "image/png",
        "size": len(RED), "sha256": RED_SHA}]]


# ---------------------------------------------------------------------------- claude


def test_claude_thinks_in_its_own_block_and_takes_effort_and_images(sandbox: Sandbox) -> None:
    done = run_fake(CLAUDE, sandbox, stdin=claude_stdin(f"Hi [[fake:reasoning={THINKING}]]", image=RED,
                                                         effort="low"))
    assert done.returncode == 0, done.stderr
    assert done.events[0] == {"type": "control_response",
                              "response": {"subtype": "success", "request_id": "bridge-effort"}}
    streamed = [(e["event"]["index"], e["event"]["delta"]["type"]) for e in done.events
                if e["type"] == "stream_event" and e["event"]["type"] == "content_block_delta"]
    assert streamed == [(0, "thinking_delta")] * 3 + [(0, "signature_delta")] + [(1, "text_delta")] * 3
    progress = [(e["estimated_tokens"], e["estimated_tokens_delta"]) for e in done.events
                if e.get("subtype") == "thinking_tokens"]
    assert progress == [(1, 1), (4, 3), (7, 3), (9, 2)]  # as captured for this text
    thought, answered = (e["message"]["content"] for e in done.events if e["type"] == "assistant")
    assert thought[0]["type"] == "thinking" and thought[0]["thinking"] == THINKING
    assert answered == [{"type": "text", "text": "Hello from mock."}]
    pid = int(next(p.stem.split("-")[1] for p in sandbox.records.glob("claude-*.json")))
    data = sandbox.record("claude", pid)
    assert data["control_requests"] == [{"subtype": "apply_flag_settings", "settings": {"effortLevel": "low"}}]
    assert data["images"] == [{"source_type": "base64", "media_type": "image/png", "size": len(RED),
                               "sha256": RED_SHA}]


# ---------------------------------------------------------------------------- model server


async def test_model_server_reasoning_in_both_wire_formats() -> None:
    chat = {"model": "gpt-4.1", "stream": True,
            "messages": [{"role": "user", "content": f"hi [[fake:reasoning={THINKING}]] [[fake:chunks=2]]"}]}
    anthropic = {"model": "claude-sonnet-5", "max_tokens": 100, "stream": True,
                 "messages": [{"role": "user", "content": f"hi [[fake:reasoning={THINKING}]]"}]}
    async with running_model_server() as url, aiohttp.ClientSession() as http:
        async with http.post(f"{url}/v1/chat/completions", json=chat) as response:
            chunks = [json.loads(line[6:]) async for line in response.content
                      if line.startswith(b"data: {")]
        other = {**chat, "stream": False, "messages": [
            {"role": "user", "content": f"hi [[fake:reasoning={THINKING}]] [[fake:reasoning_field=reasoning]]"}]}
        whole = await (await http.post(f"{url}/v1/chat/completions", json=other)).json()
        async with http.post(f"{url}/v1/messages", json=anthropic) as response:
            events = [json.loads(line[6:]) async for line in response.content if line.startswith(b"data: ")]
        plain = await (await http.post(f"{url}/v1/messages", json={**anthropic, "stream": False})).json()
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert [d.get("reasoning_content") for d in deltas[1:3]] == ["Let me", " think about it."]
    assert deltas[1]["content"] is None and "".join(d.get("content") or "" for d in deltas) == "Hello from mock."
    assert whole["choices"][0]["message"]["reasoning"] == THINKING
    starts = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert starts == ["thinking", "text"]
    kinds = [e["delta"]["type"] for e in events if e["type"] == "content_block_delta"]
    assert kinds == ["thinking_delta"] * 3 + ["signature_delta"] + ["text_delta"] * 3
    assert [b["type"] for b in plain["content"]] == ["thinking", "text"]
    assert plain["content"][0]["thinking"] == THINKING


def test_model_server_finds_images_and_leaves_their_data_out_of_the_text() -> None:
    data = base64.b64encode(RED).decode()
    body = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "look [[fake:reply=x]]"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}]}]}
    assert [p["type"] for p in image_parts(body)] == ["image_url", "image"]
    assert message_texts(body) == ["user", "text", "look [[fake:reply=x]]"]
