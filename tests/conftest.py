"""Shared fixtures: settings pointing at the fake CLIs, an app client, and an OpenAI SDK client."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI

from server.settings import Settings
from tests.openapi.fixtures import wire_schema_check  # noqa: F401 - autouse: every response checked
from tests.openapi.hooks import CheckedResponse, checked_httpx_client

FAKE_BIN = Path(__file__).parent / "fakes" / "bin"


@pytest.fixture
def record_dir(tmp_path: Path) -> Path:
    """Where the fake CLIs record their argv, cwd, stdin and files."""
    path = tmp_path / "records"
    path.mkdir()
    return path


@pytest.fixture
def cli_env(tmp_path: Path, record_dir: Path) -> dict[str, str]:
    """The environment the CLIs inherit: a private HOME and the record dir."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKE_CLI_", "COPILOT_", "CLAUDE_", "ANTHROPIC_"))}
    env.update({"HOME": str(home), "FAKE_CLI_RECORD_DIR": str(record_dir)})
    return env


@pytest.fixture
def settings_env(tmp_path: Path) -> dict[str, str]:
    """The test settings as an operator writes them: both backends (Copilot first), fake CLIs,
    a private temp base, short kill grace. One CLI process per request: these suites read what
    each one-shot run recorded; tests/server/test_long_lived_http.py runs them in the long-lived
    modes (the production default)."""
    return {
        "SERVICE": "copilot,claude",
        "COPILOT_MODE": "oneshot",
        "CLAUDE_MODE": "oneshot",
        "COPILOT_CLI_PATH": str(FAKE_BIN / "copilot"),
        "CLAUDE_CLI_PATH": str(FAKE_BIN / "claude"),
        "TEMP_DIR_BASE": str(tmp_path / "bridge-tmp"),
        "KILL_GRACE_MS": "300",
        "REQUEST_TIMEOUT": "20000",
        "LOG_DIR": str(tmp_path / "logs"),
    }


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    """The settings `settings_env` describes."""
    return Settings.from_env(settings_env)


MakeClient = Callable[..., Any]


@pytest.fixture
def make_client(aiohttp_client: Any, settings_env: dict[str, str], cli_env: dict[str, str]) -> MakeClient:
    """Start the app; `config` adds env-style settings (e.g. COPILOT_CLI_PATH), `overrides` replace
    Settings fields; `env` is added to what the CLIs inherit. Disconnects cancel handlers as in production."""

    from server.app import create_app  # imported here so executor tests don't need the server

    async def make(env: dict[str, str] | None = None, config: dict[str, str] | None = None, **overrides: Any) -> TestClient:
        settings = dataclasses.replace(Settings.from_env({**settings_env, **(config or {})}), **overrides)
        app = create_app(settings, env={**cli_env, **(env or {})})
        return await aiohttp_client(app, server_kwargs={"handler_cancellation": True}, response_class=CheckedResponse)

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient:
    """The app with default test settings."""
    return await make_client()


@pytest.fixture
async def sdk(client: TestClient) -> AsyncIterator[AsyncOpenAI]:
    """The official OpenAI SDK pointed at the app (no retries, so errors surface once)."""
    async with AsyncOpenAI(
        base_url=str(client.make_url("/v1")), api_key="test-key", max_retries=0, http_client=checked_httpx_client()
    ) as sdk_client:
        yield sdk_client


def cli_records(record_dir: Path) -> list[dict[str, Any]]:
    """What the fake CLIs recorded (argv, cwd, stdin, files, pids); half-written files are skipped."""
    out = []
    for path in sorted(record_dir.glob("*.json")):
        try:
            out.append(json.loads(path.read_text()))
        except ValueError:
            continue
    return out


def scenario(name: str, **directives: Any) -> str:
    """Prompt directives the fake CLIs obey (see tests/fakes/README.md)."""
    parts = [f"[[fake:scenario={name}]]"] + [f"[[fake:{k}={v}]]" for k, v in directives.items()]
    return " ".join(parts)


async def wait_for(predicate: Callable[[], Any], timeout: float = 3.0) -> bool:
    """Poll until `predicate()` holds or `timeout` seconds passed; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())
