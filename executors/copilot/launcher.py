"""One-shot Copilot runs: `copilot --output-format json`, prompt on stdin, AGENTS.md as system prompt.

Images are files in the run's temp dir, each named with `--attachment` (Copilot 1.0.102 sends
the model a text part `Image file at path <path>` and the image as a data URL, in that order);
`reasoning_effort` is `--reasoning-effort` (sent on as the model request's `reasoning_effort`,
left out for `none`).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import structlog

from executors.cli.config import CliConfig
from executors.cli.probe import run_probe
from executors.cli.process import CliProcess
from executors.cli.running import LaunchSpec, PromptInput, RunningCli
from executors.copilot.decoder import CopilotDecoder
from executors.copilot.state import copilot_home, forget_session
from executors.errors import CliNotFound

log = structlog.get_logger(__name__)
BACKEND = "copilot"

# The static list built into copilot 1.0.102 (`copilot help config`), used when the probe fails.
FALLBACK_MODELS = (
    "auto", "claude-sonnet-5.5", "claude-sonnet-5", "claude-fable-5.1", "claude-fable-5",
    "claude-opus-5.5", "claude-opus-5", "claude-opus-4.8", "claude-opus-4.8-fast",
    "claude-sonnet-4.6", "claude-haiku-5.5", "claude-haiku-4.5", "gpt-6.1-sol", "gpt-6-sol",
    "gpt-6-luna", "gpt-6-astra", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5",
    "gpt-5.4", "gpt-5.4-mini", "gpt-5.3-codex", "gpt-5-mini", "mai-code-1.1-flash",
    "gemini-4-argon", "gemini-3.8-flash", "gemini-3.7-flash", "grok-4.7", "grok-4.6",
    "grok-4.5", "kimi-k3",
)
_MODEL_ITEM = re.compile(r'^\s+- "([^"]+)"\s*$')


class CopilotLauncher:
    """Starts `copilot` once per request in the request's temp dir."""

    def __init__(self, config: CliConfig) -> None:
        self.config = config

    def argv(self, exe: str, spec: LaunchSpec, session_id: str) -> list[str]:
        """The measured one-shot argv; the prompt itself goes on stdin, never into argv."""
        argv = [
            exe, "--model", spec.model, "--output-format", "json", "--stream", "on",
            "--no-color", "--no-auto-update", "--disable-client-telemetry", "--no-ask-user",
            "--allow-all-tools", f"--session-id={session_id}",
            "--usage-output-file", str(spec.workdir / "usage.json"),
            "--log-dir", str(spec.workdir / "logs"),
        ]
        if not self.config.enable_tools:
            # An unknown tool name leaves the model zero tools (reference P4); an empty value would mean all.
            argv += ["--available-tools", "__none__"]
        if spec.effort is not None:
            argv += ["--reasoning-effort", spec.effort]
        for image in spec.images:
            argv += ["--attachment", str(spec.workdir / image.name)]
        return argv

    async def start(self, spec: LaunchSpec) -> RunningCli:
        """Spawn copilot waiting for its prompt on stdin."""
        exe = self.config.executable()
        if exe is None:
            raise CliNotFound(BACKEND, f"the copilot CLI was not found ({self.config.path!r}); install @github/copilot or set COPILOT_CLI_PATH")
        session_id = str(uuid.uuid4())
        env = self.config.child_env(COPILOT_AUTO_UPDATE="false")
        if spec.system_prompt is not None:
            _write_agents_md(spec.workdir, spec.system_prompt)
        for image in spec.images:  # copilot reads them when the prompt arrives
            (spec.workdir / image.name).write_bytes(image.image.data)
        process = await CliProcess.spawn(BACKEND, self.argv(exe, spec, session_id), cwd=spec.workdir, env=env)
        decoder = CopilotDecoder(spec.workdir / "usage.json")
        channel = _CopilotChannel(spec.workdir, copilot_home(env), session_id)
        return RunningCli(process, decoder, channel, self.config.grace_s, on_close=channel.cleanup)

    async def discover_models(self) -> list[str]:
        """Model ids from `copilot help config` (static list in the CLI), else the fallback."""
        if self.config.models:
            return list(self.config.models)
        exe = self.config.executable()
        probe = await run_probe([exe, "help", "config"], env=self.config.child_env(), timeout_s=30) if exe else None
        models = parse_help_config(probe[1]) if probe and probe[0] == 0 else []
        if not models:
            log.warning("copilot_model_discovery_fallback", found=bool(exe))
            return list(FALLBACK_MODELS)
        return ["auto", *[m for m in models if m != "auto"]]


def parse_help_config(text: str) -> list[str]:
    """The quoted ids listed under the `model` setting of `copilot help config`."""
    models: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.strip().startswith("`model`:"):
            inside = True
            continue
        if inside:
            match = _MODEL_ITEM.match(line)
            if match:
                models.append(match.group(1))
            elif not line.strip() or models:
                break
    return models


def _write_agents_md(workdir: Path, system_prompt: str) -> None:
    if system_prompt.strip():
        (workdir / "AGENTS.md").write_text(system_prompt, encoding="utf-8")


class _CopilotChannel:
    """Copilot reads AGENTS.md when the prompt arrives, so both are delivered together."""

    def __init__(self, workdir: Path, home: Path, session_id: str) -> None:
        self._workdir = workdir
        self._home = home
        self._session_id = session_id

    async def deliver(self, process: CliProcess, prompt: PromptInput) -> None:
        """Write AGENTS.md (if given), then the prompt's text on stdin (its images are files)."""
        if prompt.system_prompt is not None:
            _write_agents_md(self._workdir, prompt.system_prompt)
        await process.send(prompt.text.encode("utf-8"))

    def cleanup(self) -> None:
        """Forget this run's session so a busy server's Copilot state does not grow."""
        forget_session(self._home, self._session_id)
