"""A started CLI process: hand it the prompt once, read its decoded events, close it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from executors.cli.process import CliProcess
from executors.cli.transcript import PromptImage, PromptPart
from executors.events import BackendEvent
from executors.json_object import json_object

log = structlog.get_logger(__name__)

STRAY_KEEP = 8192
# The CLIs exit tens of ms after printing their result; one still running this long is stopped.
EXIT_AFTER_ANSWER_S = 2.0


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

    def wants(self, line: bytes) -> bool:
        """False for a line it would ignore anyway, told by its first bytes (`wanted_line`)."""

    def feed(self, event: Mapping[str, Any]) -> list[BackendEvent]:
        """Decode one JSON line of the CLI's output."""

    def finish(self, exit_code: int, stderr: str, stray_stdout: str) -> list[BackendEvent]:
        """Called at exit: raise the CLI's error, or return the final events (usage)."""

    def result(self) -> list[BackendEvent] | None:
        """The final events once the CLI has reported a successful end (its last line), before it exits.

        None until then, and None for a reported failure: its message may need the exit status
        and stderr, so that waits for the exit and `finish`.
        """


class PromptChannel(Protocol):
    """How a backend delivers the system prompt and prompt to a started process."""

    async def deliver(self, process: CliProcess, prompt: PromptInput) -> None:
        """Hand the prompt to the CLI."""


class RunningCli:
    """A started CLI process: hand it the prompt once, then read its events, then close it.

    The answer is complete as soon as the CLI reports its result, which it prints before it
    exits: `events()` ends right there, and `settle()` (off the answer's path) lets the process
    exit on its own. `close()` stops it at once (client gone, error, timeout).
    """

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
        self.cleanup_files = on_close  # blocking file clean-up, to run once the process is gone
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
        """Yield events as the CLI prints them, up to its reported result; raise the CLI's error when it fails."""
        stray = bytearray()
        readline = self.process.readline
        decoder = self._decoder
        while line := await readline():
            if not decoder.wants(line):
                continue
            event = json_object(line)
            if event is None:
                if len(stray) < STRAY_KEEP:
                    stray += line.rstrip(b"\r\n")[: STRAY_KEEP - len(stray)] + b"\n"
                continue
            for item in decoder.feed(event):
                yield item
            final = decoder.result()
            if final is not None:
                for item in final:
                    yield item
                return
        code, stderr = await self.process.wait()
        log.debug("cli_exited", backend=self.process.backend, pid=self.process.pid, returncode=code)
        for item in decoder.finish(code, stderr, stray.decode("utf-8", "replace")):
            yield item

    async def settle(self, timeout_s: float = EXIT_AFTER_ANSWER_S) -> None:
        """After a complete answer: give the CLI `timeout_s` to exit on its own (`close()` stops it then)."""
        code = await self.process.wait_exit(timeout_s)
        if code is None:
            log.warning("cli_slow_to_exit", backend=self.process.backend, pid=self.process.pid, waited_s=timeout_s)
        elif code != 0:
            log.warning("cli_failed_after_answer", backend=self.process.backend, pid=self.process.pid,
                        returncode=code, stderr=self.process.stderr_tail()[-500:])
        else:
            log.debug("cli_exited", backend=self.process.backend, pid=self.process.pid, returncode=code)

    async def close(self) -> None:
        """Stop the process group (if still running) and reap it."""
        await self.process.close(self._grace_s)


class CliLauncher(Protocol):
    """Starts one kind of CLI for a request: the process waits for its prompt until `send`."""

    async def start(self, spec: LaunchSpec) -> RunningCli:
        """Spawn the CLI for `spec` and return it, waiting for its prompt."""

    async def discover_models(self) -> list[str]:
        """Model ids this CLI accepts (its own list, or a built-in fallback)."""


_TYPE_FIRST = b'{"type":"'


def wanted_line(line: bytes, types: frozenset[bytes]) -> bool:
    """Whether a line may be an event of one of `types`, without decoding it.

    Both CLIs write `type` as the first key; a line that does not start that way is decoded
    as usual, so only lines of other types that say so up front are skipped.
    """
    if not line.startswith(_TYPE_FIRST):
        return True
    end = line.find(b'"', len(_TYPE_FIRST))
    return end < 0 or line[len(_TYPE_FIRST):end] in types
