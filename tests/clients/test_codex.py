"""Codex CLI (`codex exec`) with the bridge as a custom Responses provider: it runs the shell command the model asked for."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.clients.conftest import codex_cli
from tests.conftest import MakeClient, cli_records

BRIDGE_KEY = "sk-codex-0123456789abcdef"


def codex_argv(base_url: str, model: str, prompt: str, workdir: Path) -> list[str]:
    """`codex exec` pointed at the bridge with -c overrides only (the README shows the same as config.toml)."""
    overrides = {
        "model": model,
        "model_provider": "bridge",
        "model_providers.bridge.name": "Copilot Bridge",
        "model_providers.bridge.base_url": base_url,
        "model_providers.bridge.wire_api": "responses",
        "model_providers.bridge.env_key": "BRIDGE_API_KEY",
        "model_providers.bridge.request_max_retries": "0",  # a failure shows at once, not after six tries
        "model_providers.bridge.stream_max_retries": "0",
        "web_search": "disabled",
    }
    argv = [codex_cli(), "exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", "--ephemeral",
            "--json", "-C", str(workdir), "--disable", "multi_agent", "--disable", "goals"]
    for key, value in overrides.items():
        argv += ["-c", f"{key}={value}"]
    return [*argv, prompt]


async def run_codex(client: TestClient, tmp_path: Path, model: str, prompt: str) -> tuple[int, list[dict[str, Any]], str]:
    """Run Codex (stdin closed: it would wait for more input); exit code, its JSONL events, stderr."""
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path / "codex-user"), "CODEX_HOME": str(tmp_path / "codex-home"),
           "BRIDGE_API_KEY": BRIDGE_KEY, "NO_COLOR": "1"}
    (tmp_path / "codex-home").mkdir(exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        *codex_argv(str(client.make_url("/v1")), model, prompt, workdir), cwd=workdir, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        # Codex never gives up on an unreachable provider ("Reconnecting…"): bound it.
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    events = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    return proc.returncode or 0, events, stderr.decode(errors="replace")


def completed(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e.get("type") == "item.completed" and e["item"].get("type") == kind]


COMMAND = "echo codex-was-here > proof.txt && echo '[[fake:reply=Done: proof.txt is written.]]'"
CALLS = {  # the model's answer in each backend's tool-call markup
    "copilot/gpt-5.4": json.dumps({"name": "exec_command", "arguments": {"cmd": COMMAND}}).join(["<tool_call>", "</tool_call>"]),
    "claude/sonnet": f'<function_calls><invoke name="exec_command"><parameter name="cmd">{COMMAND}</parameter></invoke></function_calls>',
}


@pytest.mark.parametrize("model", sorted(CALLS))
async def test_codex_runs_the_command_the_model_called(make_client: MakeClient, tmp_path: Path, record_dir: Path, model: str) -> None:
    client = await make_client(api_keys=(BRIDGE_KEY,))
    reply = tmp_path / "call.txt"
    reply.write_text(CALLS[model], encoding="utf-8")
    code, events, stderr = await run_codex(client, tmp_path, model, f"Write the proof file. [[fake:reply_file={reply}]]")
    assert code == 0, stderr
    # The side effect: Codex ran the shell command from the function_call item it got from the bridge.
    assert (tmp_path / "work" / "proof.txt").read_text() == "codex-was-here\n"
    (execution,) = completed(events, "command_execution")
    assert execution["exit_code"] == 0 and "proof.txt" in execution["command"]
    assert [m["text"] for m in completed(events, "agent_message")] == ["Done: proof.txt is written."]
    usage = next(e["usage"] for e in events if e.get("type") == "turn.completed")
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    first, second = sorted(cli_records(record_dir), key=lambda r: len(r["prompt"]))
    system = first["files"]["AGENTS.md"] if model.startswith("copilot") else first["system_prompt_file_content"]
    assert "exec_command" in system  # Codex's tools reached the model's instructions
    assert "codex-was-here" not in first["prompt"] and "Process exited with code 0" in second["prompt"]


async def test_codex_shows_a_bridge_error(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(api_keys=(BRIDGE_KEY,))
    code, events, _ = await run_codex(client, tmp_path, "nobody/no-such-model", "hi")
    (failed,) = [e for e in events if e.get("type") == "turn.failed"]
    assert code == 1 and "nobody/no-such-model" in failed["error"]["message"]  # the bridge's 404 message, shown
