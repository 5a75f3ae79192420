"""A backend that runs one CLI process per request, in a private temp dir, within the CLI slots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from pathlib import Path

from executors.cli.config import CliConfig
from executors.cli.lease import RunLease
from executors.cli.running import CliLauncher, LaunchSpec, PromptInput
from executors.cli.transcript import render_transcript
from executors.events import BackendEvent, RunInfo
from executors.protocol import BackendContext, BackendHealth, Capabilities, ModelEntry
from executors.request import BackendRequest

AuthCheck = Callable[[Mapping[str, str]], tuple[bool, str]]
VERSION_TTL_S = 300.0  # `--version` spawns the CLI; /health is polled often


class CliBackend:
    """Spawns its CLI for each request (one-shot): the first version's way, and the fallback."""

    def __init__(
        self,
        name: str,
        cli: CliConfig,
        launcher: CliLauncher,
        context: BackendContext,
        *,
        capabilities: Capabilities,
        auth: AuthCheck,
        owner: Callable[[str], str],
    ) -> None:
        self._name = name
        self.cli = cli
        self._launcher = launcher
        self._context = context
        self._capabilities = capabilities
        self._auth = auth
        self._owner = owner
        self._version: tuple[float, str | None] | None = None
        self._version_lock = asyncio.Lock()
        self.running = 0  # CLI processes answering a request now

    @property
    def name(self) -> str:
        """The backend's name."""
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        """What the CLI honours itself."""
        return self._capabilities

    async def stream(self, request: BackendRequest) -> AsyncGenerator[BackendEvent, None]:
        """Render the prompt, take a slot and a temp dir, run the CLI, yield what it prints."""
        rendered = render_transcript(request)
        lease = RunLease(self._context.slots, self._context.background)
        self.running += 1
        try:
            workdir = await lease.open(self._name, self._context.temp_base)
            yield RunInfo(temp_dir=str(workdir))
            spec = LaunchSpec(request.model, workdir, rendered.system_prompt, rendered.images, request.reasoning_effort)
            running = lease.running = await self._launcher.start(spec)
            await running.send(PromptInput(rendered.parts, effort=request.reasoning_effort))
            async with aclosing(running.events()) as events:
                async for event in events:
                    yield event
        except BaseException:
            await lease.release()  # client gone, timeout or failure: stop the CLI now
            raise
        finally:
            self.running -= 1
        # The answer is complete: the CLI's exit and the clean-up finish without delaying it.
        self._context.background.spawn(lease.settle())

    async def run_in(self, request: BackendRequest, workdir: Path) -> AsyncGenerator[BackendEvent, None]:
        """One CLI run in `workdir`; the caller holds the slot and owns the dir."""
        rendered = render_transcript(request)
        spec = LaunchSpec(request.model, workdir, rendered.system_prompt, rendered.images, request.reasoning_effort)
        running = await self._launcher.start(spec)
        self.running += 1
        try:
            await running.send(PromptInput(rendered.parts, effort=request.reasoning_effort))
            async with aclosing(running.events()) as events:
                async for event in events:
                    yield event
        finally:
            self.running -= 1
            await running.close()

    def stats(self) -> dict[str, int]:
        """Processes by state: one-shot runs are `running` only."""
        return {"processes_running": self.running, "processes_idle": 0, "processes_warm": 0,
                "requests_active": self.running, "restarts": 0}

    async def list_models(self) -> list[ModelEntry]:
        """The CLI's model ids (or the operator's list), each with its maker."""
        ids = await self._launcher.discover_models()
        return [ModelEntry(m, self._owner(m)) for m in dict.fromkeys(ids)]

    async def health(self) -> BackendHealth:
        """Is the CLI installed, which version, do credentials look present."""
        path = self.cli.executable()
        version = await self._cached_version() if path else None
        authed, source = self._auth(self.cli.env)
        detail = {"cli_found": path is not None, "cli_path": path, "version": version, "auth_source": source}
        return BackendHealth(available=path is not None, authenticated=authed, detail=detail)

    async def _cached_version(self) -> str | None:
        async with self._version_lock:
            now = time.monotonic()
            if self._version is None or now - self._version[0] > VERSION_TTL_S:
                self._version = (now, await self.cli.version())
            return self._version[1]

    async def start(self) -> None:
        """Nothing to warm up for one-shot runs."""

    async def aclose(self) -> None:
        """Wait for finished runs still settling (their CLIs exiting, their files going)."""
        await self._context.background.drain()

