"""Building the CLI backends as the server does, and running one request through them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from executors import Backend, BackendContext, BackendEvent, BackendRequest, CliSlots, Message, read_backend_configs
from server.pipeline.tool_protocol import DialectToolProtocol
from tests.conftest import FAKE_BIN

MODEL = {"copilot": "gpt-5.4", "claude": "sonnet"}
TEST_SETTINGS = {"COPILOT_CLI_PATH": str(FAKE_BIN / "copilot"), "CLAUDE_CLI_PATH": str(FAKE_BIN / "claude"),
                 "KILL_GRACE_MS": "300"}


def make_backend(kind: str, env: dict[str, str], temp_base: Path, *, config: dict[str, str] | None = None) -> Backend:
    """The backend `kind` built from env-style settings, pointed at the fake CLIs."""
    settings_env = {**TEST_SETTINGS, **(config or {})}
    temp_base.mkdir(parents=True, exist_ok=True)
    context = BackendContext(env, temp_base, CliSlots(8, 8), request_timeout_s=20)
    return read_backend_configs(settings_env)[kind].build(context)


def request_for(kind: str, prompt: str, system: str | None = "Be brief.", **fields: Any) -> BackendRequest:
    """A one-turn request (with an optional system message) for the backend's default model."""
    messages = ([Message("system", system)] if system else []) + [Message("user", prompt)]
    return BackendRequest(MODEL[kind], tuple(messages), tool_protocol=DialectToolProtocol("hermes"), **fields)


async def collect(backend: Backend, request: BackendRequest) -> list[BackendEvent]:
    """Every event of one run."""
    return [event async for event in backend.stream(request)]


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
