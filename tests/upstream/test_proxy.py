"""A model server reached through an HTTP proxy (BACKEND_PROXY): relayed, with credentials, or a clear 503."""

from __future__ import annotations

import base64
import json

import openai
import pytest

from executors.envconfig import ConfigError
from executors.upstream.config import read_configs
from tests.fakes.forward_proxy import running_forward_proxy
from tests.upstream.conftest import MakeBridge, Upstream, user
from tests.upstream.test_errors import free_port


async def test_discovery_and_answers_go_through_the_proxy(make_bridge: MakeBridge, upstream: Upstream) -> None:
    async with running_forward_proxy() as (proxy, seen):
        bridge = await make_bridge(upstream, BACKEND_PROXY=proxy)
        whole = await bridge.sdk.chat.completions.create(model=upstream.model, messages=user("Say hi"))
        assert whole.choices[0].message.content
        chunks = await bridge.sdk.chat.completions.create(model=upstream.model, messages=user("Say hi"), stream=True)
        streamed = "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
        assert streamed == whole.choices[0].message.content
        health = await (await bridge.client.get("/health")).json()
    assert upstream.base_url + "/models" in seen.urls
    assert seen.urls.count(upstream.base_url + "/chat/completions") == 2
    assert len(await upstream.requests()) == 2  # what the proxy relayed is what the server got
    assert health["backends"]["upstream"]["proxy"] == proxy


async def test_credentials_in_the_proxy_url_are_sent_and_never_shown(make_bridge: MakeBridge, upstream: Upstream) -> None:
    expected = "Basic " + base64.b64encode(b"bridge:p@ss word").decode()
    async with running_forward_proxy(require=expected) as (proxy, seen):
        with_credentials = proxy.replace("http://", "http://bridge:p%40ss%20word@")
        bridge = await make_bridge(upstream, BACKEND_PROXY=with_credentials)
        answer = await bridge.sdk.chat.completions.create(model=upstream.model, messages=user("Say hi"))
        assert answer.choices[0].message.content
        health = await (await bridge.client.get("/health")).json()
        assert "p%40ss" not in json.dumps(health) and health["backends"]["upstream"]["proxy"] == proxy

        refused = await make_bridge(upstream, BACKEND_PROXY=proxy)  # no credentials: the proxy answers 407
        for stream in (False, True):
            with pytest.raises(openai.InternalServerError) as caught:
                await refused.sdk.chat.completions.create(model=upstream.model, messages=user("hi"), stream=stream)
            assert caught.value.status_code == 503 and caught.value.code == "upstream_unavailable"
            assert "wants credentials (407)" in caught.value.message and "BACKEND_PROXY" in caught.value.message
    assert set(seen.credentials) == {expected, None}


async def test_a_proxy_that_is_down_is_a_503_that_names_it(make_bridge: MakeBridge, upstream: Upstream) -> None:
    proxy = f"http://127.0.0.1:{free_port()}"
    bridge = await make_bridge(upstream, BACKEND_PROXY=proxy)
    with pytest.raises(openai.InternalServerError) as caught:
        await bridge.sdk.chat.completions.create(model=upstream.model, messages=user("hi"))
    assert caught.value.status_code == 503 and f"cannot connect to the proxy at {proxy}" in caught.value.message


@pytest.mark.parametrize(("value", "problem"), [
    ("socks5://127.0.0.1:1080", "expected an HTTP proxy's address"),
    ("http://127.0.0.1:3128/path", "expected an HTTP proxy's address"),
    ("http://127.0.0.1:99999", "not a valid URL"),
])
def test_bad_proxy_settings_stop_the_start(value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=f"^BACKEND_PROXY: {problem}"):
        read_configs({"BACKEND_URL": "http://127.0.0.1:9/v1", "BACKEND_PROXY": value}, None)
    with pytest.raises(ConfigError, match="^BACKEND_PROXY: no upstream is configured"):
        read_configs({"BACKEND_PROXY": "http://127.0.0.1:3128"}, None)
    (config,) = read_configs({"UPSTREAMS": "gpu", "UPSTREAM_GPU_URL": "http://127.0.0.1:9/v1",
                              "UPSTREAM_GPU_PROXY": "http://me:secret@127.0.0.1:3128"}, None)
    assert "secret" not in repr(config)
