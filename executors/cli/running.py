"""A started CLI process: hand it the prompt once, read its decoded events, close it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from executors.cli.process import CliProcess
from executors.cli.transcript import PromptImage, PromptPart
from executors.events import BackendEvent

log = structlog.get_logger(__name__)

STRAY_KEEP = 8192


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    """What a CLI needs at spawn time: the model, its private working dir and the system prompt.

    Copilot reads its system prompt (AGENTS.md) only when the prompt arrives, so it may be left
    None here and handed to `RunningCli.send`; Claude reads its prompt file at start-up. A CLI
    that takes images as files, or the reasoning effort as a flag, gets them here.
    """

    model: str
    workdir: Path
    system_prompt: str | None = None
    images: tuple[PromptImage, ...] = ()
    effort: str | None = None


@dataclass(frozen=True, slots=True)
class PromptInput:
    """What a started CLI is handed: the prompt (text and images in order), and, for a process
    started ahead of its request, the system prompt and reasoning effort."""

    parts: tuple[PromptPart, ...]
    system_prompt: str | None = None
    effort: str | None = None

    @property
    def text(self) -> str:
        """The prompt's text."""
        return "".join(p for p in self.parts if isinstance(p, str))


class OutputDecoder(Protocol):
    """Turns one CLI's stdout events into typed events; raises CliFailed on reported errors."""

    def feed(self, event: Mapping[str, Any]) -> list[BackendEvent]:
        """Decode one JSON line of the CLI's output."""

    def finish(self, exit_code: int, stderr: str, stray_stdout: str) -> list[BackendEvent]:
        """Called at exit: raise the CLI's error, or return the final events (usage)."""


class PromptChannel(Protocol):
    """How a backend delivers the system prompt and prompt to a started process."""

    async def deliver(self, process: CliProcess, prompt: PromptInput) -> None:
        """Hand the prompt to the CLI."""


class RunningCli:
    """A started CLI process: hand it the prompt once, then read its events, then close it."""

    def __init__(
        self,
        process: CliProcess,
        decoder: OutputDecoder,
        channel: PromptChannel,
        grace_s: float,
        *,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.process = process
        self._on_close = on_close
        self._decoder = decoder
        self._channel = channel
        self._grace_s = grace_s
        self._sent = False

    async def send(self, prompt: PromptInput) -> None:
        """Deliver the prompt (and what else the channel takes) to the waiting CLI."""
        if self._sent:
            raise RuntimeError("a CLI process serves exactly one prompt")
        self._sent = True
        await self._channel.deliver(self.process, prompt)

    async def events(self) -> AsyncGenerator[BackendEvent, None]:
        """Yield events as the CLI prints them; raise the CLI's error when it fails."""
        stray = bytearray()
        async for line in self.process.lines():
            event = _decode_json(line)
            if event is None:
                if len(stray) < STRAY_KEEP:
                    stray += line[: STRAY_KEEP - len(stray)] + b"\n"
                continue
            for item in self._decoder.feed(event):
                yield item
        code, stderr = await self.process.wait()
        log.info("cli_exited", backend=self.process.backend, pid=self.process.pid, returncode=code)
        for item in self._decoder.finish(code, stderr, stray.decode("utf-8", "replace")):
            yield item

    async def close(self) -> None:
        """Stop the process group (if still running) and reap it."""
        await self.process.close(self._grace_s)
        if self._on_close is not None:
            await asyncio.to_thread(self._on_close)  # file-system cleanup stays off the event loop


class CliLauncher(Protocol):
    """Starts one kind of CLI for a request: the process waits for its prompt until `send`."""

    async def start(self, spec: LaunchSpec) -> RunningCli:
        """Spawn the CLI for `spec` and return it, waiting for its prompt."""

    async def discover_models(self) -> list[str]:
        """Model ids this CLI accepts (its own list, or a built-in fallback)."""


def _decode_json(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
