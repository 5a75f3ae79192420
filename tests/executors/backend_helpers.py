"""Building the CLI backends as the server does, and running one request through them."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from executors import (
    Backend,
    BackendContext,
    BackendEvent,
    BackendRequest,
    CliSlots,
    Message,
    read_backend_configs,
)
from server.pipeline.tool_protocol import DialectToolProtocol
from tests.conftest import FAKE_BIN

MODEL = {"copilot": "gpt-5.4", "claude": "sonnet"}
# Every way a CLI backend runs: (CLI, settings). The pool is warmed for the contract's model.
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "copilot-oneshot": ("copilot", {"COPILOT_MODE": "oneshot"}),
    "copilot-headless": ("copilot", {"COPILOT_MODE": "headless"}),
    "claude-oneshot": ("claude", {"CLAUDE_MODE": "oneshot"}),
    "claude-pool": ("claude", {"CLAUDE_MODE": "pool", "CLAUDE_POOL_MODELS": "sonnet"}),
}
# The fake headless server answers a session only with a GitHub token or a BYOK provider (like the real one).
FAKE_GITHUB_TOKEN = "gho_fake_bridge_test_token_5c2e"
TEST_SETTINGS = {"COPILOT_CLI_PATH": str(FAKE_BIN / "copilot"), "CLAUDE_CLI_PATH": str(FAKE_BIN / "claude"),
                 "KILL_GRACE_MS": "300"}


def make_backend(kind: str, env: dict[str, str], temp_base: Path, *, config: dict[str, str] | None = None,
                 slots: CliSlots | None = None) -> Backend:
    """The backend `kind` built from env-style settings, pointed at the fake CLIs."""
    settings_env = {**TEST_SETTINGS, **(config or {})}
    temp_base.mkdir(parents=True, exist_ok=True)
    context = BackendContext(env, temp_base, slots or CliSlots(8, 8), request_timeout_s=20)
    return read_backend_configs(settings_env)[kind].build(context)


def variant_env(variant: str, env: dict[str, str]) -> dict[str, str]:
    """What the CLIs inherit in this variant (a token for the headless server)."""
    return {**env, "COPILOT_GITHUB_TOKEN": FAKE_GITHUB_TOKEN} if variant == "copilot-headless" else env


@asynccontextmanager
async def running_backend(variant: str, env: dict[str, str], temp_base: Path, *, config: dict[str, str] | None = None,
                          slots: CliSlots | None = None, warm: bool = True) -> AsyncIterator[Backend]:
    """The variant's backend, started (and warm, for the long-lived ones) and closed afterwards."""
    kind, settings = VARIANTS[variant]
    backend = make_backend(kind, variant_env(variant, env), temp_base, config={**settings, **(config or {})},
                           slots=slots)
    await backend.start()
    try:
        if warm and variant == "copilot-headless":
            await wait_until(lambda: backend.stats()["processes_warmed"] >= 1, 30)
        elif warm and variant == "claude-pool":
            await wait_until(lambda: backend.stats()["processes_ready"] >= 1, 30)
        yield backend
    finally:
        await backend.aclose()


def request_for(kind: str, prompt: str, system: str | None = "Be brief.", **fields: Any) -> BackendRequest:
    """A one-turn request (with an optional system message) for the backend's default model."""
    messages = ([Message("system", system)] if system else []) + [Message("user", prompt)]
    return BackendRequest(MODEL[kind], tuple(messages), tool_protocol=DialectToolProtocol("hermes"), **fields)


async def collect(backend: Backend, request: BackendRequest) -> list[BackendEvent]:
    """Every event of one run."""
    return [event async for event in backend.stream(request)]


async def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    """Poll `predicate` until true (returns True) or the timeout passes (raises)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {predicate}")
        await asyncio.sleep(0.05)
    return True


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
