"""The real CLIs and the fakes side by side on reasoning, reasoning effort and images.

Each runs against the fake model server; the event shapes must match, and the model server's
log shows what the real CLI sent the model (the effort, the image).
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import test_fakes
from model_server import image_parts, running_model_server
from test_fakes import (
    CLAUDE,
    COPILOT,
    FAKES_BIN,
    Finished,
    Sandbox,
    find_real_cli,
    real_cli_env,
    run_cli,
    shape,
)
from test_fakes_media import RED, THINKING, claude_stdin
from test_fakes_persistent import start_headless

pytestmark = pytest.mark.realcli
# The fixtures of the suite this one extends.
sandbox = test_fakes.sandbox
model_url = test_fakes.model_url
real_cli_cache = test_fakes.real_cli_cache


async def sent_bodies(url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        records = await (await http.get(f"{url}/_fake/requests")).json()
        await http.delete(f"{url}/_fake/requests")
    return [r["body"] for r in records if isinstance(r["body"], dict) and "messages" in r["body"]
            and not (r["body"].get("output_config") or {}).get("format")]  # not Claude's title request


@pytest.mark.parametrize("flavor", [pytest.param(COPILOT, id="copilot"), pytest.param(CLAUDE, id="claude")])
async def test_fake_reasoning_and_images_print_what_the_real_cli_prints(
        flavor: Any, sandbox: Sandbox, model_url: str, real_cli_cache: Path) -> None:
    binary = find_real_cli(flavor.name)
    if binary is None:
        pytest.fail(f"the real {flavor.name} CLI is not installed; make test installs it into .tools")
    env = real_cli_env(flavor.name, model_url, sandbox.home, real_cli_cache)
    image = sandbox.workdir / "image-1.png"
    image.write_bytes(RED)
    prompt = f"Describe it [[fake:reasoning={THINKING}]]"
    runs: list[Finished] = []
    bodies: list[dict[str, Any]] = []
    for exe in (binary, str(FAKES_BIN / flavor.name)):
        if flavor is COPILOT:
            argv = [*flavor.argv(exe, sandbox.workdir), "--reasoning-effort", "high", "--attachment", str(image)]
            runs.append(await run_cli(argv, sandbox.workdir, env, prompt))
        else:
            stdin = claude_stdin(prompt, image=RED, effort="low")
            runs.append(await run_cli(flavor.argv(exe, sandbox.workdir), sandbox.workdir, env, stdin))
        bodies += await sent_bodies(model_url)
    real, fake = runs
    assert real.returncode == fake.returncode == 0, real.stderr + fake.stderr
    assert [shape(e) for e in fake.events] == [shape(e) for e in real.events]
    (body,) = bodies  # the fake sends nothing; the real one sent the image and the effort
    parts = image_parts(body)
    if flavor is COPILOT:
        assert body["reasoning_effort"] == "high"
        assert parts == [{"type": "image_url", "image_url": {"url": "data:image/png;base64,"
                                                             + base64.b64encode(RED).decode()}}]
    else:
        assert body["output_config"] == {"effort": "low"}
        # Claude marks the message's last block for caching: the image, sent as it came.
        assert [(p["type"], p["source"]) for p in parts] == [("image", {
            "type": "base64", "media_type": "image/png", "data": base64.b64encode(RED).decode()})]
    thinking = "".join(e["event"]["delta"].get("thinking", "") for e in real.events if e["type"] == "stream_event"
                       and e["event"]["type"] == "content_block_delta") if flavor is CLAUDE else "".join(
        e["data"]["deltaContent"] for e in real.events if e["type"] == "assistant.reasoning_delta")
    assert thinking == THINKING


async def test_real_headless_takes_effort_and_blob_attachments(tmp_path: Path, real_cli_cache: Path) -> None:
    binary = find_real_cli("copilot")
    if binary is None:
        pytest.fail("the real copilot CLI is not installed; make test installs it into .tools")
    home_dir = tmp_path / "real-home"
    home_dir.mkdir()
    blob = {"type": "blob", "data": base64.b64encode(RED).decode(), "mimeType": "image/png",
            "displayName": "image-1.png"}
    async with running_model_server() as url:
        env = real_cli_env("copilot", url, home_dir, real_cli_cache) | {"COPILOT_MODEL": "gpt-4.1"}
        provider = {"type": "openai", "baseUrl": f"{url}/v1", "apiKey": env["COPILOT_PROVIDER_API_KEY"]}
        kinds: list[list[str]] = []
        for exe in (binary, str(FAKES_BIN / "copilot")):
            server = await start_headless(exe, env, home_dir)
            try:
                await server.conn.request("connect", {}, timeout=60)
                session_id = str(uuid.uuid4())
                params = server.create_params(session_id, "Be terse.", home_dir, provider, reasoningEffort="medium")
                events: list[dict[str, Any]] = []
                with server.conn.subscribe(session_id) as sub:
                    created = await server.conn.request("session.create", params, timeout=60)
                    await server.conn.request("session.send", {
                        "sessionId": session_id, "prompt": f"Hi [[fake:reasoning={THINKING}]]",
                        "attachments": [blob]}, timeout=60)
                    async for note in sub:
                        if note.event is not None:
                            events.append(note.event)
                            if note.event["type"] == "session.idle":
                                break
                await server.conn.request("session.delete", {"sessionId": session_id}, timeout=60)
            finally:
                await server.stop()
            assert created["modelState"] == {"modelId": "gpt-4.1", "reasoningEffort": "medium"}
            user = next(e["data"] for e in events if e["type"] == "user.message")
            assert user["attachments"] == [{k: blob[k] for k in ("type", "displayName", "mimeType", "data")}]
            core = {"user.message", "assistant.reasoning_delta", "assistant.message_delta",
                    "assistant.message", "assistant.reasoning", "session.idle"}
            kinds.append([e["type"] for e in events if e["type"] in core])
        (body,) = await sent_bodies(url)
    assert kinds[0] == kinds[1]
    assert body["reasoning_effort"] == "medium"
    assert [p["type"] for p in body["messages"][-1]["content"]] == ["text", "text", "image_url"]
    assert body["messages"][-1]["content"][1] == {"type": "text", "text": "image-1.png"}
