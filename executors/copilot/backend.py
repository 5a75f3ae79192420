"""The Copilot backend: a long-lived headless server per worker, with one-shot runs as the fallback.

`COPILOT_MODE=auto` answers on the headless server and runs the CLI once per request (the first
version's way) when this CLI has no headless mode, speaks another protocol version, keeps dying,
or the operator enabled the CLI's agent tools; `headless` and `oneshot` force one way.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any, Literal

from executors.cli.auth import find_credentials, home_of
from executors.cli.backend import CliBackend
from executors.cli.config import CliConfig
from executors.copilot.headless import HeadlessServer, HeadlessUnavailable
from executors.copilot.launcher import CopilotLauncher
from executors.copilot.runner import HeadlessOptions, HeadlessRunner
from executors.copilot.session_params import ONESHOT_ONLY_ENV, provider_from_env
from executors.events import BackendEvent, RunInfo
from executors.owners import guess_owner
from executors.protocol import BackendContext, BackendHealth, Capabilities, ModelEntry
from executors.request import BackendRequest
from tempdirs import RequestTempDir

CopilotMode = Literal["auto", "headless", "oneshot"]
_AUTH_ENV = ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN", "COPILOT_PROVIDER_BASE_URL")


def copilot_credentials(env: Mapping[str, str]) -> tuple[bool, str]:
    """A token in the environment, a BYOK provider, or a logged-in user in copilot's or gh's config."""
    home = home_of(env)
    copilot_home = Path(env.get("COPILOT_HOME") or home / ".copilot")
    # copilot writes config.json on its first run; only a /login adds these keys to it.
    files = [
        (copilot_home / "config.json", ('"loggedInUsers"', '"lastLoggedInUser"')),
        (home / ".config" / "gh" / "hosts.yml", ("oauth_token",)),
    ]
    return find_credentials(env, _AUTH_ENV, files)


def oneshot_reason(config: CliConfig, env: Mapping[str, str]) -> str | None:
    """Why auto mode must run the CLI once per request, whatever the headless server can do."""
    if config.enable_tools:
        return "ENABLE_CLI_TOOLS=true (headless sessions run without the CLI's agent tools)"
    for key in ONESHOT_ONLY_ENV:
        if env.get(key, "").strip():
            return f"{key} is set (only the one-shot CLI runs it)"
    return None


class CopilotBackend:
    """Answers on the headless server when it can, else with a one-shot run."""

    def __init__(self, name: str, cli: CliConfig, context: BackendContext, *, mode: CopilotMode,
                 options: HeadlessOptions) -> None:
        self._name = name
        self._context = context
        self._oneshot = CliBackend(
            name, cli, CopilotLauncher(cli), context,
            capabilities=Capabilities(params=frozenset({"reasoning_effort"}), images=True), auth=copilot_credentials,
            owner=lambda model: guess_owner(model, "github-copilot"))
        self._mode = mode
        self._forced_oneshot = oneshot_reason(cli, cli.env) if mode == "auto" else None
        self._runner: HeadlessRunner | None = None
        if mode != "oneshot" and self._forced_oneshot is None:
            self._runner = HeadlessRunner(cli, context.slots, context.temp_base, options, provider_from_env(cli.env),
                                          context.background)

    @property
    def name(self) -> str:
        """The backend's name."""
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        """reasoning_effort (a flag, or the session's) and images (attachments); no sampling parameters."""
        return self._oneshot.capabilities

    def stream(self, request: BackendRequest) -> AsyncIterator[BackendEvent]:
        """One request: a session on the headless server, or a one-shot run."""
        if self._runner is None:
            return self._oneshot.stream(request)  # as it is: one generator less on every event's way
        if self._mode == "auto" and not self._runner.usable():
            return self._oneshot_instead(request)
        return self._headless(self._runner, request)

    async def _oneshot_instead(self, request: BackendRequest) -> AsyncGenerator[BackendEvent, None]:
        yield RunInfo(fallbacks=("copilot_oneshot",))
        async with aclosing(self._oneshot.stream(request)) as events:
            async for event in events:
                yield event

    async def _headless(self, runner: HeadlessRunner, request: BackendRequest) -> AsyncGenerator[BackendEvent, None]:
        # A complete answer's dir goes with the batched file work; a failed one's at once.
        tempdir = RequestTempDir(self._context.temp_base, defer=self._context.background.run_blocking)
        try:
            async with self._context.slots.slot(self._name), tempdir as workdir:
                yield RunInfo(temp_dir=str(workdir))
                server = await self._server(runner)
                if server is None:
                    yield RunInfo(fallbacks=("copilot_oneshot",))
                    events = self._oneshot.run_in(request, workdir)
                else:
                    events = server.answer(request, workdir)
                with runner.session(server):
                    async with aclosing(events) as running:
                        async for event in running:
                            yield event
        finally:
            runner.reserve()  # the request's slot is free again: the idle server counts toward the cap

    async def _server(self, runner: HeadlessRunner) -> HeadlessServer | None:
        """The live headless server; None when it is unavailable and auto mode answers one-shot."""
        try:
            return await runner.server()
        except HeadlessUnavailable:
            if self._mode != "auto":
                raise
            return None

    async def list_models(self) -> list[ModelEntry]:
        """The CLI's model ids (or the operator's list)."""
        return await self._oneshot.list_models()

    async def health(self) -> BackendHealth:
        """The CLI's state, the mode in use and the warm server."""
        base = await self._oneshot.health()
        detail: dict[str, Any] = {**base.detail, "mode": self._mode_in_use()}
        if self._runner is not None:
            detail["warm"] = self._runner.describe()
        return BackendHealth(base.available, base.authenticated, detail)

    def _mode_in_use(self) -> str:
        if self._runner is None:
            return f"oneshot ({self._forced_oneshot})" if self._forced_oneshot else "oneshot"
        if self._mode == "auto" and not self._runner.usable():
            why = self._runner.unsupported or self._runner.last_error or "headless unavailable"
            return f"oneshot (fallback: {why})"
        return "headless"

    def stats(self) -> dict[str, int]:
        """Warm servers, their sessions, and one-shot runs."""
        oneshot = self._oneshot.stats()
        if self._runner is None:
            return oneshot
        warm = self._runner.stats()
        for key in ("processes_running", "requests_active"):
            warm[key] += oneshot[key]
        return warm

    async def start(self) -> None:
        """Start and warm up the headless server in the background."""
        if self._runner is not None:
            await self._runner.start()

    async def aclose(self) -> None:
        """Stop the headless server (and anything it still runs); wait for one-shot runs still settling."""
        if self._runner is not None:
            await self._runner.aclose()
        await self._oneshot.aclose()
