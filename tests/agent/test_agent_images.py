"""Images in an agent request's history reach the model too (the same image step as chat)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MakeClient
from tests.server.params.media_helpers import RED, image_part, seen_by, sha

ENDPOINTS = ["/api/chat", "/api/agent_chat"]


@pytest.mark.parametrize("model", ["copilot/gpt-5.4", "claude/sonnet"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_an_image_in_the_conversation_reaches_the_cli(
    make_client: MakeClient, agent_config: dict[str, str], record_dir: Path, endpoint: str, model: str
) -> None:
    agent = await make_client(config=agent_config)
    history = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image_part(RED)]},
               {"role": "assistant", "content": "A square."}]
    response = await agent.post(endpoint, json={"message": "Which colour?", "history": history, "model": model})
    assert response.status == 200, await response.text()
    assert (await response.json())["answer"] == "Hello from mock."
    assert seen_by(record_dir, model).images == [sha(RED)]


async def test_an_image_url_is_refused_there_too(make_client: MakeClient, agent_config: dict[str, str]) -> None:
    agent = await make_client(config=agent_config)
    history = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]
    response = await agent.post("/api/chat", json={"message": "And now?", "history": history, "model": "claude/sonnet"})
    assert response.status == 400
    error = (await response.json())["error"]
    assert (error["code"], error["param"]) == ("invalid_image_url", "history[0].content[0].image_url")
