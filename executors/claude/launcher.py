"""One-shot Claude runs: `claude -p` with stream-json in and out, tools and settings off."""

from __future__ import annotations

import json
import os
from pathlib import Path

from executors.claude.decoder import ClaudeDecoder
from executors.cli.config import CliConfig
from executors.cli.process import CliProcess
from executors.cli.running import LaunchSpec, RunningCli
from executors.errors import CliNotFound

BACKEND = "claude"
SYSTEM_PROMPT_FILE = "system-prompt.md"
# Without a prompt file Claude would use its whole coding-agent prompt; a chat API wants a plain assistant.
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."

# Claude has no model discovery (reference 1.2.2): its aliases plus the ids found in 2.1.197.
KNOWN_MODELS = (
    "default", "sonnet", "opus", "haiku", "fable", "opusplan", "sonnet[1m]", "opus[1m]",
    "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5", "claude-opus-4-1",
    "claude-sonnet-5", "claude-sonnet-4-6", "claude-sonnet-4-5", "claude-haiku-4-5",
    "claude-fable-5", "claude-mythos-5", "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001", "claude-opus-4-5-20251101",
)


class ClaudeLauncher:
    """Starts `claude -p` once per request in the request's temp dir."""

    def __init__(self, config: CliConfig, *, max_retries: int = 2) -> None:
        self.config = config
        self.max_retries = max_retries

    def argv(self, exe: str, spec: LaunchSpec) -> list[str]:
        """The measured argv; the prompt goes on stdin as one stream-json user message."""
        argv = [
            exe, "-p", "--input-format", "stream-json", "--output-format", "stream-json",
            "--verbose", "--include-partial-messages", "--model", spec.model,
            "--system-prompt-file", str(spec.workdir / SYSTEM_PROMPT_FILE),
            "--setting-sources", "", "--no-session-persistence", "--strict-mcp-config",
        ]
        if self.config.enable_tools:
            argv += ["--permission-mode", "bypassPermissions", "--max-turns", "25"]
        else:
            argv += ["--tools", "", "--max-turns", "1"]
        return argv

    async def start(self, spec: LaunchSpec) -> RunningCli:
        """Spawn claude with its system prompt file in place (it reads it at start-up)."""
        exe = self.config.executable()
        if exe is None:
            raise CliNotFound(BACKEND, f"the claude CLI was not found ({self.config.path!r}); install @anthropic-ai/claude-code or set CLAUDE_CLI_PATH")
        system_prompt = spec.system_prompt if spec.system_prompt and spec.system_prompt.strip() else DEFAULT_SYSTEM_PROMPT
        (spec.workdir / SYSTEM_PROMPT_FILE).write_text(system_prompt, encoding="utf-8")
        env = self.config.child_env(
            CLAUDE_CODE_MAX_RETRIES=str(self.max_retries), DISABLE_AUTOUPDATER="1", DISABLE_TELEMETRY="1"
        )
        if self.config.enable_tools and os.geteuid() == 0:
            env["IS_SANDBOX"] = "1"  # bypassPermissions refuses to run as root otherwise (pitfall P9)
        process = await CliProcess.spawn(BACKEND, self.argv(exe, spec), cwd=spec.workdir, env=env)
        return RunningCli(process, ClaudeDecoder(), _ClaudeChannel(spec.workdir, system_prompt), self.config.grace_s)

    async def discover_models(self) -> list[str]:
        """The operator's list, else the known aliases and ids."""
        return list(self.config.models or KNOWN_MODELS)


class _ClaudeChannel:
    """One stream-json user message on stdin, then end of input."""

    def __init__(self, workdir: Path, system_prompt: str) -> None:
        self._workdir = workdir
        self._system_prompt = system_prompt

    async def deliver(self, process: CliProcess, prompt: str, system_prompt: str | None) -> None:
        """Send the prompt; a different system prompt cannot reach a started claude."""
        if system_prompt is not None and system_prompt.strip() and system_prompt != self._system_prompt:
            raise ValueError("claude reads its system prompt at start-up; start a new process for another one")
        message = {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": prompt}]}}
        await process.send((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
