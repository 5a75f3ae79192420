"""The bridge in front of the fake upstream (tests/fakes/upstream_server.py), the openai SDK as client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI

from tests.conftest import MakeClient
from tests.fakes.upstream_server import running_upstream_server
from tests.fakes.upstream_shapes import PERSONALITIES, Personality, profile_for
from tests.openapi.hooks import checked_httpx_client

WEATHER = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
CALL = '[[fake:tool_call=get_weather {"city": "Paris"}]]'
MODEL_OF: dict[Personality, str] = {p: profile_for(p).models[0] for p in PERSONALITIES}  # each one's first model


def user(text: str) -> list[dict[str, Any]]:
    """One user message."""
    return [{"role": "user", "content": text}]


@dataclass
class Upstream:
    """A running fake upstream: its base URL (ending in /v1) and what it received."""

    base_url: str
    personality: Personality
    http: aiohttp.ClientSession

    @property
    def model(self) -> str:
        """The personality's first model id, as the bridge lists it (`upstream/<id>`)."""
        return "upstream/" + MODEL_OF[self.personality]

    async def requests(self, path: str = "/v1/chat/completions") -> list[dict[str, Any]]:
        """Every request the fake got on `path`, oldest first."""
        async with self.http.get(self.base_url.removesuffix("/v1") + "/_fake/requests") as response:
            records: list[dict[str, Any]] = await response.json()
        return [r for r in records if r["path"] == path]

    async def clear(self) -> None:
        """Forget the requests received so far."""
        async with self.http.delete(self.base_url.removesuffix("/v1") + "/_fake/requests"):
            pass


StartUpstream = Callable[..., Awaitable[Upstream]]


@pytest.fixture
async def start_upstream() -> AsyncIterator[StartUpstream]:
    """Start fake upstreams (`personality`, switches); all stop after the test."""
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())

        async def start(personality: Personality = "vllm", **switches: Any) -> Upstream:
            base = await stack.enter_async_context(running_upstream_server(personality, **switches))
            return Upstream(base, personality, http)

        yield start


@dataclass
class Bridge:
    """The bridge app (aiohttp test client) and the official SDK pointed at it; every response
    either reads is checked against OpenAI's OpenAPI schemas (tests/openapi)."""

    client: TestClient
    sdk: AsyncOpenAI


MakeBridge = Callable[..., Awaitable[Bridge]]


@pytest.fixture
async def make_bridge(make_client: MakeClient) -> AsyncIterator[MakeBridge]:
    """A bridge whose settings add `config` (env-style) to the test settings: only the upstream
    (from `BACKEND_URL`) unless the config says otherwise."""
    sdks: list[AsyncOpenAI] = []

    async def make(upstream: Upstream | None = None, **config: str) -> Bridge:
        env = {"SERVICE": "upstream", **config}
        if upstream is not None:
            env.setdefault("BACKEND_URL", upstream.base_url)
        client = await make_client(config=env)
        sdks.append(AsyncOpenAI(base_url=str(client.make_url("/v1")), api_key="unused", max_retries=0, timeout=30,
                                http_client=checked_httpx_client()))
        return Bridge(client, sdks[-1])

    yield make
    for sdk in sdks:
        await sdk.close()


@pytest.fixture
async def upstream(start_upstream: StartUpstream) -> Upstream:
    """A vLLM-like fake upstream with default switches."""
    return await start_upstream("vllm")


@pytest.fixture
async def bridge(make_bridge: MakeBridge, upstream: Upstream) -> Bridge:
    """The bridge in front of `upstream`."""
    return await make_bridge(upstream)
