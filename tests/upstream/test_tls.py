"""An HTTPS model server: its CA trusted from a file, checks turned off, or a clear 503 that says which."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
import trustme

from executors.envconfig import ConfigError
from executors.upstream.config import UpstreamSettings, read_configs
from tests.fakes.upstream_server import running_upstream_server
from tests.upstream.conftest import MODEL_OF, MakeBridge, user

MODEL = "upstream/" + MODEL_OF["vllm"]


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    """A throwaway CA that signs the fake server's certificate for 127.0.0.1."""
    return trustme.CA()


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
async def https_url(authority: trustme.CA) -> AsyncIterator[str]:
    """A vLLM-like fake upstream serving HTTPS with a certificate of `authority`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    async with running_upstream_server("vllm", ssl_context=context) as url:
        yield url


async def ask(bridge_sdk: openai.AsyncOpenAI, stream: bool) -> str:
    if not stream:
        answer = await bridge_sdk.chat.completions.create(model=MODEL, messages=user("Say hi"))
        return answer.choices[0].message.content or ""
    chunks = await bridge_sdk.chat.completions.create(model=MODEL, messages=user("Say hi"), stream=True)
    return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])


@pytest.mark.parametrize("stream", [False, True])
async def test_a_server_signed_by_the_configured_ca_answers(make_bridge: MakeBridge, https_url: str, ca_file: str,
                                                           stream: bool) -> None:
    bridge = await make_bridge(BACKEND_URL=https_url, BACKEND_CA_FILE=ca_file)
    assert [m.id async for m in bridge.sdk.models.list()] == [MODEL]
    assert await ask(bridge.sdk, stream)


async def test_an_untrusted_certificate_is_a_503_that_names_the_settings(make_bridge: MakeBridge, https_url: str) -> None:
    bridge = await make_bridge(BACKEND_URL=https_url)
    for stream in (False, True):
        with pytest.raises(openai.InternalServerError) as caught:
            await ask(bridge.sdk, stream)
        assert caught.value.status_code == 503 and caught.value.code == "upstream_unavailable"
        message = caught.value.message
        assert "not trusted" in message and "BACKEND_CA_FILE" in message and "BACKEND_TLS_VERIFY=false" in message
    health = await (await bridge.client.get("/health")).json()
    assert health["backends"]["upstream"]["available"] is False
    assert "not trusted" in health["backends"]["upstream"]["reason"]


async def test_checks_turned_off_accept_any_certificate(make_bridge: MakeBridge, https_url: str) -> None:
    bridge = await make_bridge(BACKEND_URL=https_url, BACKEND_TLS_VERIFY="false")
    assert await ask(bridge.sdk, stream=True)


async def test_each_named_upstream_has_its_own_ca(make_bridge: MakeBridge, https_url: str, ca_file: str) -> None:
    bridge = await make_bridge(UPSTREAMS="gpu", UPSTREAM_GPU_URL=https_url, UPSTREAM_GPU_CA_FILE=ca_file, SERVICE="gpu")
    answer = await bridge.sdk.chat.completions.create(model="gpu/" + MODEL_OF["vllm"], messages=user("Say hi"))
    assert answer.choices[0].message.content
    other = await make_bridge(UPSTREAMS="gpu", UPSTREAM_GPU_URL=https_url, SERVICE="gpu")
    with pytest.raises(openai.InternalServerError) as caught:
        await other.sdk.chat.completions.create(model="gpu/" + MODEL_OF["vllm"], messages=user("Say hi"))
    assert "set UPSTREAM_GPU_CA_FILE" in caught.value.message and "UPSTREAM_GPU_TLS_VERIFY=false" in caught.value.message


def test_bad_tls_settings_stop_the_start(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(ConfigError, match="^BACKEND_CA_FILE: cannot load CA certificates from"):
        read_configs({"BACKEND_URL": "https://127.0.0.1:9/v1", "BACKEND_CA_FILE": missing}, None)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    with pytest.raises(ConfigError, match="^BACKEND_CA_FILE: cannot load CA certificates"):
        read_configs({"BACKEND_URL": "https://127.0.0.1:9/v1", "BACKEND_CA_FILE": str(not_pem)}, None)
    with pytest.raises(ConfigError, match="^BACKEND_TLS_VERIFY"):
        read_configs({"BACKEND_URL": "https://127.0.0.1:9/v1", "BACKEND_TLS_VERIFY": "maybe"}, None)
    with pytest.raises(ConfigError, match="^BACKEND_TLS_VERIFY: no upstream is configured"):
        read_configs({"BACKEND_TLS_VERIFY": "false"}, None)
    (config,) = read_configs({"BACKEND_URL": "https://127.0.0.1:9/v1", "BACKEND_TLS_VERIFY": "false"}, None)
    assert isinstance(config, UpstreamSettings) and config.ssl_context() is False
