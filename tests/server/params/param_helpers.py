"""One way to read an answer through the openai SDK, streamed or not, for the parameter tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI
from openai.lib.streaming.chat import ChatCompletionStreamState

from tests.openapi.hooks import checked_httpx_client

MODELS = ["copilot/gpt-5.4", "claude/sonnet"]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLOCK = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}},
}


@dataclass(frozen=True)
class SdkAnswer:
    """What a client reads from one answer."""

    content: str | None
    finish_reason: str
    calls: list[tuple[str, Any]]  # (name, decoded arguments)
    chunks: int  # chunks with choices (1 for a non-streamed answer)


def sdk_for(client: TestClient, **options: Any) -> AsyncOpenAI:
    """An SDK client on the app with the SDK's own defaults (max_retries=2) unless `options` say
    otherwise; what it reads is checked against OpenAI's schema like the `sdk` fixture's."""
    return AsyncOpenAI(base_url=str(client.make_url("/v1")), api_key="test-key", http_client=checked_httpx_client(), **options)


async def answer_of(sdk: AsyncOpenAI, stream: bool, **kwargs: Any) -> SdkAnswer:
    """The answer, read with `create` or accumulated from `create(stream=True)` like the SDK does."""
    if not stream:
        completion = await sdk.chat.completions.create(**kwargs)
        chunks = 1
    else:
        state = ChatCompletionStreamState()
        chunks = 0
        async for chunk in await sdk.chat.completions.create(stream=True, **kwargs):
            chunks += bool(chunk.choices)
            state.handle_chunk(chunk)
        completion = state.get_final_completion()
    choice = completion.choices[0]
    calls = [(c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls or []
             if c.type == "function"]
    return SdkAnswer(choice.message.content, choice.finish_reason, calls, chunks)


# A structured-output format: what the params and the pipeline tests ask for.
PERSON_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "person",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name", "age"],
            "additionalProperties": False,
        },
    },
}
