"""Upstream settings: BACKEND_* for one server, UPSTREAMS for several, presets, and errors naming the variable."""

from __future__ import annotations

import pytest

from executors.envconfig import ConfigError
from executors.upstream.config import UpstreamSettings, read_configs
from server.settings import Settings


def upstreams(env: dict[str, str]) -> list[UpstreamSettings]:
    configs = read_configs(env, None)
    assert all(isinstance(c, UpstreamSettings) for c in configs)
    return configs  # type: ignore[return-value]


def test_nothing_configured_means_no_upstream() -> None:
    assert upstreams({}) == []
    assert Settings.from_env({}).services == ("copilot",)


@pytest.mark.parametrize(("preset", "url"), [
    ("lmstudio", "http://127.0.0.1:1234/v1"), ("ollama", "http://127.0.0.1:11434/v1"),
    ("vllm", "http://127.0.0.1:8000/v1"), ("llamacpp", "http://127.0.0.1:8080/v1"),
])
def test_presets_fill_in_the_usual_address(preset: str, url: str) -> None:
    (config,) = upstreams({"BACKEND_PRESET": preset})
    assert (config.name, config.base_url, config.preset, config.max_tokens_field) == ("upstream", url, preset, "max_tokens")
    assert config.enabled_by_default


def test_openai_preset_needs_a_key_and_uses_max_completion_tokens() -> None:
    with pytest.raises(ConfigError, match="^BACKEND_API_KEY: required with BACKEND_PRESET=openai"):
        upstreams({"BACKEND_PRESET": "openai"})
    (config,) = upstreams({"BACKEND_PRESET": "openai", "BACKEND_API_KEY": "sk-x"})
    assert config.base_url == "https://api.openai.com:443/v1" and config.max_tokens_field == "max_completion_tokens"
    assert "sk-x" not in repr(config)


def test_host_port_protocol_override_the_preset_and_name_sets_the_prefix() -> None:
    (config,) = upstreams({"BACKEND_PRESET": "vllm", "BACKEND_HOST": "gpu.lan", "BACKEND_PROTOCOL": "https",
                           "BACKEND_NAME": "GPU", "BACKEND_API_KEY": "k", "BACKEND_MAX_TOKENS": "4096",
                           "BACKEND_TIMEOUT": "2500"})
    assert (config.name, config.base_url, config.api_key) == ("gpu", "https://gpu.lan:8000/v1", "k")
    assert (config.max_tokens, config.timeout_s) == (4096, 2.5)
    (plain,) = upstreams({"BACKEND_HOST": "10.0.0.2"})
    assert plain.base_url == "http://10.0.0.2:80/v1" and plain.preset is None


@pytest.mark.parametrize(("url", "expected"), [
    ("http://localhost:11434/v1/", "http://localhost:11434/v1"),
    ("http://localhost:1234", "http://localhost:1234/v1"),
    ("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1"),
])
def test_url_is_taken_as_given_with_v1_for_a_bare_host(url: str, expected: str) -> None:
    (config,) = upstreams({"BACKEND_URL": url})
    assert config.base_url == expected


def test_several_upstreams_each_with_their_own_settings() -> None:
    env = {"UPSTREAMS": "local, gpu-box", "UPSTREAM_LOCAL_PRESET": "lmstudio",
           "UPSTREAM_GPU_BOX_URL": "http://10.0.0.2:8000/v1", "UPSTREAM_GPU_BOX_API_KEY": "k2",
           "BACKEND_PRESET": "ollama"}
    configs = upstreams(env)
    assert [(c.name, c.base_url, c.api_key) for c in configs] == [
        ("upstream", "http://127.0.0.1:11434/v1", None), ("local", "http://127.0.0.1:1234/v1", None),
        ("gpu-box", "http://10.0.0.2:8000/v1", "k2")]
    settings = Settings.from_env(env)
    assert settings.services == ("copilot", "upstream", "local", "gpu-box")  # SERVICE unset: every upstream serves
    assert Settings.from_env({**env, "SERVICE": "gpu-box,claude"}).services == ("gpu-box", "claude")


@pytest.mark.parametrize(("env", "key", "problem"), [
    ({"BACKEND_PRESET": "kobold"}, "BACKEND_PRESET", "expected one of lmstudio, ollama, vllm, llamacpp, openai"),
    ({"BACKEND_URL": "ftp://x/v1"}, "BACKEND_URL", "expected an http:// or https:// URL"),
    ({"BACKEND_URL": "http://x:99999/v1"}, "BACKEND_URL", "not a valid URL"),
    ({"BACKEND_URL": "http://u:p@x/v1"}, "BACKEND_URL", "put credentials in the API_KEY setting"),
    ({"BACKEND_URL": "http://x/v1", "BACKEND_PORT": "1"}, "BACKEND_URL", "set either BACKEND_URL or BACKEND_PORT"),
    ({"BACKEND_HOST": "a b"}, "BACKEND_HOST", "expected a host name"),
    ({"BACKEND_PRESET": "vllm", "BACKEND_PORT": "0"}, "BACKEND_PORT", "must be at least 1"),
    ({"BACKEND_PRESET": "vllm", "BACKEND_PROTOCOL": "ws"}, "BACKEND_PROTOCOL", "expected one of http, https"),
    ({"BACKEND_PRESET": "vllm", "BACKEND_MAX_TOKENS": "many"}, "BACKEND_MAX_TOKENS", "expected an integer"),
    ({"BACKEND_PRESET": "vllm", "BACKEND_TIMEOUT": "0"}, "BACKEND_TIMEOUT", "must be at least 1"),
    ({"BACKEND_PRESET": "vllm", "BACKEND_NAME": "a/b"}, "BACKEND_NAME", "not a usable name"),
    ({"BACKEND_API_KEY": "k"}, "BACKEND_API_KEY", "no upstream is configured"),
    ({"UPSTREAMS": "gpu"}, "UPSTREAMS", "needs UPSTREAM_GPU_URL or UPSTREAM_GPU_PRESET"),
    ({"UPSTREAMS": "a-b,a_b", "UPSTREAM_A_B_PRESET": "vllm"}, "UPSTREAMS", "share the settings prefix"),
    ({"UPSTREAMS": "gpu", "UPSTREAM_GPU_PRESET": "vllm", "UPSTREAM_GPU_PORT": "x"}, "UPSTREAM_GPU_PORT", "expected an integer"),
])
def test_bad_values_name_the_variable(env: dict[str, str], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.key == key and problem in str(caught.value)


def test_duplicate_names_and_unknown_service_are_refused() -> None:
    with pytest.raises(ConfigError, match="two backends are named 'copilot'"):
        Settings.from_env({"UPSTREAMS": "copilot", "UPSTREAM_COPILOT_PRESET": "vllm"})
    with pytest.raises(ConfigError, match="configured: copilot, claude, ollama"):
        Settings.from_env({"BACKEND_PRESET": "ollama", "BACKEND_NAME": "ollama", "SERVICE": "upstream"})
