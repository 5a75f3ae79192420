"""Reasoning, reasoning_effort and images through the official openai SDK and the fake CLIs.

Every test runs in both ways the CLIs are driven: one process per request (`oneshot`), and the
production default (`long_lived`: Copilot's headless server, Claude's pool of started processes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI

from tests.conftest import cli_records
from tests.executors.backend_helpers import FAKE_GITHUB_TOKEN
from tests.server.params.media_helpers import BLUE, RED, THINKING, data_url, image_part, seen_by, sha
from tests.server.params.param_helpers import MODELS
from tests.server.test_long_lived_http import warm

# What each CLI is told for reasoning_effort="low" (executors/claude/launcher.py EFFORTS).
LOW = {
    "copilot": "low",
    "claude": [{"subtype": "apply_flag_settings", "settings": {"effortLevel": "low"}},
               {"subtype": "set_max_thinking_tokens", "max_thinking_tokens": 4096}],
}


@pytest.fixture(params=["oneshot", "long_lived"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings_env(settings_env: dict[str, str], mode: str) -> dict[str, str]:
    if mode == "oneshot":
        return settings_env
    return {**settings_env, "COPILOT_MODE": "headless", "CLAUDE_MODE": "pool", "CLAUDE_POOL_MODELS": "sonnet"}


@pytest.fixture
def cli_env(cli_env: dict[str, str], mode: str) -> dict[str, str]:
    return {**cli_env, "COPILOT_GITHUB_TOKEN": FAKE_GITHUB_TOKEN} if mode == "long_lived" else cli_env


async def ready(client: TestClient, mode: str) -> None:
    """In the long-lived mode, wait for the warm processes, so the request is served by one."""
    if mode == "long_lived":
        await warm(client)


async def read(sdk: AsyncOpenAI, stream: bool, **kwargs: Any) -> tuple[str, str, dict[str, str]]:
    """(content, reasoning_content, headers) of one answer, streamed or not."""
    raw = await sdk.chat.completions.with_raw_response.create(stream=stream, **kwargs)
    headers = dict(raw.headers)
    if not stream:
        message = raw.parse().choices[0].message
        return message.content or "", getattr(message, "reasoning_content", None) or "", headers
    content, reasoning = [], []
    async for chunk in raw.parse():
        if chunk.choices:
            content.append(chunk.choices[0].delta.content or "")
            reasoning.append(getattr(chunk.choices[0].delta, "reasoning_content", None) or "")
    return "".join(content), "".join(reasoning), headers


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
async def test_reasoning_streams_apart_and_the_effort_reaches_the_cli(
    client: TestClient, sdk: AsyncOpenAI, record_dir: Path, mode: str, model: str, stream: bool
) -> None:
    await ready(client, mode)
    content, reasoning, headers = await read(
        sdk, stream, model=model, reasoning_effort="low",
        messages=[{"role": "user", "content": f"Hi [[fake:reasoning={THINKING}]]"}])
    assert content == "Hello from mock." and reasoning == THINKING
    assert "reasoning_effort" not in headers.get("x-bridge-ignored-params", "")  # honoured, not ignored
    seen = seen_by(record_dir, model)
    assert seen.effort == LOW[model.split("/")[0]]
    assert seen.long_lived == (mode == "long_lived")


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
async def test_images_reach_the_cli_in_order(
    client: TestClient, sdk: AsyncOpenAI, record_dir: Path, mode: str, model: str, stream: bool
) -> None:
    await ready(client, mode)
    content, _, _ = await read(sdk, stream, model=model, messages=[{"role": "user", "content": [
        {"type": "text", "text": "Which colours?"}, image_part(RED), image_part(BLUE)]}])
    assert content == "Hello from mock."
    seen = seen_by(record_dir, model)
    assert seen.images == [sha(RED), sha(BLUE)] and seen.effort in (None, [])
    assert seen.long_lived == (mode == "long_lived")
    if model.startswith("copilot/") and mode == "oneshot":
        (record,) = [r for r in cli_records(record_dir) if r["prompt"] is not None]
        attached = [record["argv"][i + 1] for i, a in enumerate(record["argv"]) if a == "--attachment"]
        assert attached == [f"{record['cwd']}/image-1.png", f"{record['cwd']}/image-2.png"]
        assert record["prompt"] == "Which colours?"


@pytest.mark.parametrize("model", MODELS)
async def test_an_earlier_turns_image_is_marked_in_the_transcript(
    client: TestClient, sdk: AsyncOpenAI, record_dir: Path, mode: str, model: str
) -> None:
    await ready(client, mode)
    completion = await sdk.chat.completions.create(model=model, messages=[
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image_part(RED)]},
        {"role": "assistant", "content": "A red square."},
        {"role": "user", "content": "And its size?"}])
    assert completion.choices[0].message.content == "Hello from mock."
    assert seen_by(record_dir, model).images == [sha(RED)]
    records = cli_records(record_dir)
    prompts = [p for r in records for p in ([r["prompt"]] if r.get("prompt") else [])
               + [q for s in (r.get("sessions") or {}).values() for q in s["prompts"] if q != "warm-up"]]
    (prompt,) = prompts
    assert "### User\nWhat is this?\n[image-1.png]\n\n### Assistant\nA red square." in prompt


@pytest.mark.parametrize("model", MODELS)
async def test_responses_input_image_and_reasoning(
    client: TestClient, sdk: AsyncOpenAI, record_dir: Path, mode: str, model: str
) -> None:
    await ready(client, mode)
    response = await sdk.responses.create(model=model, reasoning={"effort": "low"}, input=[{"role": "user", "content": [
        {"type": "input_text", "text": f"Describe it [[fake:reasoning={THINKING}]]"},
        {"type": "input_image", "image_url": data_url(RED), "detail": "auto"}]}])
    kinds = [item.type for item in response.output]
    assert kinds == ["reasoning", "message"]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning" and reasoning.content is not None
    assert "".join(part.text for part in reasoning.content) == THINKING
    assert response.output_text == "Hello from mock."
    seen = seen_by(record_dir, model)
    assert seen.images == [sha(RED)] and seen.effort == LOW[model.split("/")[0]]
