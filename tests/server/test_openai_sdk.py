"""End to end with the official openai SDK as the client, both backends."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI

from tests.conftest import scenario

MODELS = ["copilot/gpt-5.4", "claude/sonnet"]


@pytest.mark.parametrize("model", MODELS)
async def test_non_stream(sdk: AsyncOpenAI, model: str) -> None:
    completion = await sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say hi"}])
    assert completion.choices[0].message.content == "Hello from mock."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert completion.model == model


@pytest.mark.parametrize("model", MODELS)
async def test_stream_with_usage(sdk: AsyncOpenAI, model: str) -> None:
    stream = await sdk.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say hi"}], stream=True, stream_options={"include_usage": True}
    )
    text, finishes, usage = [], [], None
    async for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert "".join(text) == "Hello from mock."
    assert finishes == ["stop"]
    assert usage is not None and usage.completion_tokens > 0


async def test_stream_helper_accumulates(sdk: AsyncOpenAI) -> None:
    async with sdk.chat.completions.stream(model="claude/sonnet", messages=[{"role": "user", "content": "hi"}]) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == "Hello from mock."


async def test_models_list(sdk: AsyncOpenAI) -> None:
    ids = [m.id async for m in sdk.models.list()]
    assert "copilot/gpt-5.4" in ids and "claude/opus" in ids
    model = await sdk.models.retrieve("claude/opus")
    assert model.owned_by == "anthropic"


async def test_errors_map_to_sdk_exceptions(sdk: AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as not_found:
        await sdk.chat.completions.create(model="--yolo", messages=[{"role": "user", "content": "x"}])
    assert not_found.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        await sdk.chat.completions.create(model="copilot/gpt-5.4", messages=[])
    assert bad.value.code == "missing_messages"
    with pytest.raises(openai.InternalServerError) as unavailable:
        await sdk.chat.completions.create(model="claude/sonnet", messages=[{"role": "user", "content": scenario("auth")}])
    assert unavailable.value.status_code == 503 and unavailable.value.code == "claude_execution_error"


async def test_error_after_stream_started_raises_in_sdk(sdk: AsyncOpenAI) -> None:
    stream = await sdk.chat.completions.create(
        model="copilot/gpt-5.4", messages=[{"role": "user", "content": scenario("crash")}], stream=True
    )
    got = []
    with pytest.raises(openai.APIError):
        async for chunk in stream:
            got.append(chunk.choices[0].delta.content or "")
    assert "".join(got) == "Hello"
