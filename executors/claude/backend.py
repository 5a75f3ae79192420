"""The Claude Code backend: processes started ahead of demand, and cold one-shot starts.

`CLAUDE_MODE=pool` answers with an idle pooled process when one is ready for the model and
starts one cold otherwise (pooled processes are keyed by model only: the request's reasoning
effort and images reach a started process on stdin, like its system prompt); `auto` does the same but stops pooling for a while when pooled
processes keep dying while they wait; `oneshot` always starts cold (the first version's way).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any, Literal

from executors.claude.launcher import ClaudeLauncher
from executors.claude.pool import ClaudePool, PoolOptions
from executors.cli.auth import find_credentials, home_of
from executors.cli.backend import CliBackend
from executors.cli.config import CliConfig
from executors.cli.running import PromptInput
from executors.cli.transcript import render_transcript
from executors.events import BackendEvent, RunInfo
from executors.protocol import BackendContext, BackendHealth, Capabilities, ModelEntry
from executors.request import BackendRequest

ClaudeMode = Literal["auto", "pool", "oneshot"]
_AUTH_ENV = (
    "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
)


def claude_credentials(env: Mapping[str, str]) -> tuple[bool, str]:
    """A key or token in the environment, or a /login in Claude's credentials file."""
    claude_dir = Path(env.get("CLAUDE_CONFIG_DIR") or home_of(env) / ".claude")
    return find_credentials(env, _AUTH_ENV, [(claude_dir / ".credentials.json", ("accessToken", "claudeAiOauth"))])


class ClaudeBackend:
    """A warm pooled process when one is ready, else a cold start."""

    def __init__(self, name: str, cli: CliConfig, context: BackendContext, *, mode: ClaudeMode,
                 max_retries: int, pool: PoolOptions) -> None:
        self._name = name
        self._mode = mode
        launcher = ClaudeLauncher(cli, max_retries=max_retries)
        self._cold = CliBackend(
            name, cli, launcher, context,
            # Claude models follow Anthropic-style XML tool calls best, whatever their alias. The
            # effort goes in control requests, so pooled processes take it as well as cold ones.
            capabilities=Capabilities(params=frozenset({"reasoning_effort"}), default_dialect="claude_xml", images=True),
            auth=claude_credentials,
            owner=lambda model: "anthropic")
        self._pool = None if mode == "oneshot" else ClaudePool(launcher, context.slots, context.temp_base, pool)

    @property
    def name(self) -> str:
        """The backend's name."""
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        """reasoning_effort and images; Anthropic-style XML tool calls."""
        return self._cold.capabilities

    def stream(self, request: BackendRequest) -> AsyncIterator[BackendEvent]:
        """One request on a pooled process (system prompt by `initialize`), or a cold start."""
        if self._pool is None:
            return self._cold.stream(request)  # as it is: one generator less on every event's way
        return self._stream(self._pool, request)

    async def _stream(self, pool: ClaudePool, request: BackendRequest) -> AsyncGenerator[BackendEvent, None]:
        pooled = pool.take(request.model)  # when the stream is first read, not when it is made
        if pooled is None:
            async with aclosing(self._cold.stream(request)) as events:
                async for event in events:
                    yield event
            return
        try:
            yield RunInfo(temp_dir=str(pooled.workdir))
            rendered = render_transcript(request)
            running = await pooled.begin()
            await running.send(PromptInput(rendered.parts, rendered.system_prompt, request.reasoning_effort))
            async with aclosing(running.events()) as events:
                async for event in events:
                    yield event
        finally:
            await pool.done(pooled)

    async def list_models(self) -> list[ModelEntry]:
        """The operator's list, else the known aliases and ids."""
        return await self._cold.list_models()

    async def health(self) -> BackendHealth:
        """The CLI's state, the mode, and the warm processes."""
        base = await self._cold.health()
        detail: dict[str, Any] = {**base.detail, "mode": self._mode if self._pool is None else "pool"}
        if self._pool is not None:
            detail["warm"] = self._pool.describe()
        return BackendHealth(base.available, base.authenticated, detail)

    def stats(self) -> dict[str, int]:
        """Warm and busy pooled processes, and cold runs."""
        cold = self._cold.stats()
        if self._pool is None:
            return cold
        warm = self._pool.stats()
        for key in ("processes_running", "requests_active"):
            warm[key] += cold[key]
        return warm

    async def start(self) -> None:
        """Start the pool's upkeep (and warm CLAUDE_POOL_MODELS)."""
        if self._pool is not None:
            await self._pool.start()

    async def aclose(self) -> None:
        """Stop every idle pooled process; wait for cold runs still settling."""
        if self._pool is not None:
            await self._pool.aclose()
        await self._cold.aclose()
