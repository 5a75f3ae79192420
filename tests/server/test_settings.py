"""Settings from the environment: defaults, the original project's names, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import ConfigError, Settings


def test_defaults_match_the_original_project() -> None:
    settings = Settings.from_env({})
    assert settings.port == 3456 and settings.host == "127.0.0.1"
    assert settings.request_timeout_ms == 300_000
    assert settings.services == ("copilot",)
    copilot, claude = settings.backends["copilot"], settings.backends["claude"]
    assert copilot.cli.path == "copilot" and claude.cli.path == "claude"  # type: ignore[attr-defined]
    assert copilot.cli.enable_tools is False and settings.enable_tool_call_conversion is True  # type: ignore[attr-defined]


def test_long_lived_modes_are_the_default_and_read() -> None:
    defaults = Settings.from_env({}).backends
    copilot, claude = defaults["copilot"], defaults["claude"]
    assert copilot.mode == "auto" and claude.mode == "auto"  # type: ignore[attr-defined]
    assert (copilot.headless.recycle_sessions, copilot.headless.recycle_rss_mb) == (1000, 1024)  # type: ignore[attr-defined]
    assert (claude.pool.size, claude.pool.idle_timeout_s, claude.pool.memory_mb, claude.pool.models) == (1, 300.0, 1024, ())  # type: ignore[attr-defined]
    read = Settings.from_env({"COPILOT_MODE": "Headless", "COPILOT_RECYCLE_SESSIONS": "0", "CLAUDE_MODE": "pool",
                              "CLAUDE_POOL_SIZE": "2", "CLAUDE_POOL_MODELS": "sonnet, opus", "CLAUDE_POOL_IDLE_TIMEOUT": "30"}).backends
    assert read["copilot"].mode == "headless" and read["copilot"].headless.recycle_sessions == 0  # type: ignore[attr-defined]
    pool = read["claude"].pool  # type: ignore[attr-defined]
    assert read["claude"].mode == "pool" and (pool.size, pool.models, pool.idle_timeout_s) == (2, ("sonnet", "opus"), 30.0)  # type: ignore[attr-defined]
    assert pool.pause_on_deaths is False  # only auto stops pooling when processes keep dying


def test_values_are_read() -> None:
    settings = Settings.from_env({
        "PORT": "8080", "HOST": "0.0.0.0", "API_KEY": "k1", "SERVICE": "both", "DEFAULT_MODEL": "claude/sonnet",
        "COPILOT_CLI_PATH": "/x/copilot", "CLAUDE_CLI_PATH": "/x/claude", "REQUEST_TIMEOUT": "1000",
        "TEMP_DIR_BASE": "/var/tmp/b", "TOOL_DIALECTS": "gpt-*=hermes, glm*=glm45",
    })
    assert settings.port == 8080 and settings.services == ("copilot", "claude")
    assert settings.request_timeout_s == 1.0 and settings.temp_dir_base == Path("/var/tmp/b")
    assert settings.tool_dialects == {"gpt-*": "hermes", "glm*": "glm45"}
    assert settings.backends["claude"].cli.path == "/x/claude"  # type: ignore[attr-defined]
    assert Settings.from_env({"SERVICE": "claude,copilot"}).services == ("claude", "copilot")


def test_unknown_service_names_the_configured_backends() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"SERVICE": "copilot,gemini"})
    assert "'gemini'" in str(info.value) and "copilot, claude" in str(info.value)


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"PORT": "abc"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"REQUEST_TIMEOUT": "0"}, "REQUEST_TIMEOUT"),
        ({"SERVICE": "gemini"}, "SERVICE"),
        ({"ENABLE_CLI_TOOLS": "maybe"}, "ENABLE_CLI_TOOLS"),
        ({"CLAUDE_MAX_RETRIES": "-1"}, "CLAUDE_MAX_RETRIES"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"TOOL_DIALECTS": "nonsense"}, "TOOL_DIALECTS"),
        ({"TOOL_DIALECTS": "gpt-*=klingon"}, "TOOL_DIALECTS"),
        ({"STREAM_KEEPALIVE": "0"}, "STREAM_KEEPALIVE"),
        ({"COPILOT_MODE": "server"}, "COPILOT_MODE"),
        ({"COPILOT_MODE": "headless", "ENABLE_CLI_TOOLS": "true"}, "COPILOT_MODE"),
        ({"COPILOT_MODE": "headless", "COPILOT_PROVIDER_API_KEY_COMMAND": "pass show k"}, "COPILOT_MODE"),
        ({"COPILOT_RECYCLE_SESSIONS": "-1"}, "COPILOT_RECYCLE_SESSIONS"),
        ({"COPILOT_RECYCLE_RSS_MB": "lots"}, "COPILOT_RECYCLE_RSS_MB"),
        ({"CLAUDE_MODE": "warm"}, "CLAUDE_MODE"),
        ({"CLAUDE_POOL_SIZE": "17"}, "CLAUDE_POOL_SIZE"),
        ({"CLAUDE_POOL_IDLE_TIMEOUT": "0"}, "CLAUDE_POOL_IDLE_TIMEOUT"),
        ({"CLAUDE_POOL_MEMORY_MB": "-5"}, "CLAUDE_POOL_MEMORY_MB"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert info.value.key == key and str(info.value).startswith(key)


def test_public_bind_without_key_is_refused_unless_opted_out() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"HOST": "0.0.0.0"})
    assert "API_KEY" in str(info.value) and "ALLOW_PUBLIC_WITHOUT_AUTH" in str(info.value)
    assert Settings.from_env({"HOST": "0.0.0.0", "ALLOW_PUBLIC_WITHOUT_AUTH": "true"}).host == "0.0.0.0"
    assert Settings.from_env({"HOST": "0.0.0.0", "API_KEYS": "a,b"}).api_keys == ("a", "b")
