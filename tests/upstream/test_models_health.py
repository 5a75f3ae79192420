"""Models discovered from each upstream's /v1/models, several upstreams at once, and /health."""

from __future__ import annotations

import pytest

from tests.fakes.upstream_shapes import PERSONALITIES, Personality
from tests.upstream.conftest import MODEL_OF, MakeBridge, StartUpstream, Upstream, user

OWNERS: dict[Personality, str] = {"lmstudio": "organization_owner", "ollama": "library", "vllm": "vllm",
                                  "llamacpp": "llamacpp", "llama_cpp_python": "me"}


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_models_are_listed_with_the_upstream_prefix(start_upstream: StartUpstream, make_bridge: MakeBridge,
                                                          personality: Personality) -> None:
    upstream = await start_upstream(personality)
    bridge = await make_bridge(upstream, SERVICE="copilot,upstream")
    models = [m async for m in bridge.sdk.models.list()]
    mine = [m for m in models if m.id.startswith("upstream/")]
    assert mine[0].id == "upstream/" + MODEL_OF[personality] and mine[0].owned_by == OWNERS[personality]
    assert all(m.object == "model" and m.created > 0 for m in mine)
    assert models[0].id.startswith("copilot/")  # SERVICE order
    one = await bridge.sdk.models.retrieve(mine[0].id)
    assert one.id == mine[0].id


async def test_models_are_cached_and_refreshed_on_request(start_upstream: StartUpstream, make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("vllm")
    bridge = await make_bridge(upstream)
    for _ in range(3):
        [m async for m in bridge.sdk.models.list()]
        await bridge.sdk.chat.completions.create(model=upstream.model, messages=user("hi"))
    assert len(await upstream.requests("/v1/models")) == 1
    [m async for m in bridge.sdk.models.list(extra_query={"refresh": "true"})]
    assert len(await upstream.requests("/v1/models")) == 2


async def test_several_upstreams_side_by_side(start_upstream: StartUpstream, make_bridge: MakeBridge) -> None:
    local = await start_upstream("ollama")
    gpu = await start_upstream("vllm", api_key="gpu-key")
    bridge = await make_bridge(SERVICE="", UPSTREAMS="local,gpu", UPSTREAM_LOCAL_URL=local.base_url,
                               UPSTREAM_GPU_URL=gpu.base_url, UPSTREAM_GPU_API_KEY="gpu-key")
    ids = [m.id async for m in bridge.sdk.models.list() if not m.id.startswith("copilot/")]
    assert ids == ["local/llama3.2:latest", "local/qwen2.5-coder:7b", "gpu/Qwen/Qwen2.5-7B-Instruct"]
    for model in ("local/llama3.2:latest", "gpu/Qwen/Qwen2.5-7B-Instruct"):
        answer = await bridge.sdk.chat.completions.create(model=model, messages=user(f"[[fake:reply={model}]]"))
        assert answer.choices[0].message.content == model and answer.model == model
    assert [r["body"]["model"] for r in await local.requests()] == ["llama3.2:latest"]
    assert [r["body"]["model"] for r in await gpu.requests()] == ["Qwen/Qwen2.5-7B-Instruct"]
    health = await (await bridge.client.get("/health")).json()
    assert list(health["backends"]) == ["copilot", "local", "gpu"]  # SERVICE unset: Copilot and every upstream
    assert {n: (b["available"], b["authenticated"], b["models"]) for n, b in health["backends"].items()
            if n != "copilot"} == {"local": (True, True, 2), "gpu": (True, True, 1)}


async def test_health_reports_a_refused_key(start_upstream: StartUpstream, make_bridge: MakeBridge) -> None:
    upstream = await start_upstream("llama_cpp_python", api_key="right")
    bridge = await make_bridge(upstream, BACKEND_API_KEY="wrong", BACKEND_PRESET="llamacpp")
    response = await bridge.client.get("/health")
    body = await response.json()
    state = body["backends"]["upstream"]
    assert response.status == 200 and body["status"] == "degraded"
    assert state["available"] is True and state["authenticated"] is False
    assert state["reason"] == "HTTP 401: Invalid API key" and state["preset"] == "llamacpp"


async def test_health_of_a_working_upstream(upstream: Upstream, make_bridge: MakeBridge) -> None:
    bridge = await make_bridge(upstream)
    body = await (await bridge.client.get("/health")).json()
    assert body == {"status": "ok", "backends": {"upstream": {
        "available": True, "authenticated": True, "url": upstream.base_url, "preset": None, "models": 1}}}
