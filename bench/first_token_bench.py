"""Time to the first word: the warm bridge against running the same real CLI yourself, cold.

For each CLI, interleaved (so machine noise hits both): spawn the CLI with the bridge's own
one-shot argv and measure spawn → first text delta; then send the same prompt through the
bridge (`python -m server`, Copilot on its headless server, Claude from its pool) and measure
request → first content chunk. The model server answers at once. The bridge's first request is
left out (the issue's "from the second request on"); before each Claude request the bench waits
until the pool has refilled, as it does between requests that are not back to back.
Usage: python bench/first_token_bench.py [--runs 10] [--only copilot|claude]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.real_cli_setup import Bridge, cli_env, copilot_cache, first_content, load, real_cli
from executors.claude.launcher import SYSTEM_PROMPT_FILE, ClaudeLauncher
from executors.cli.config import CliConfig
from executors.cli.running import LaunchSpec
from executors.copilot.launcher import CopilotLauncher
from tests.fakes.model_server import running_model_server

MODELS = {"copilot": "gpt-5.4", "claude": "sonnet"}
SYSTEM = "You are a helpful assistant."


async def cold_run(cli: str, env: dict[str, str], tmp: Path, prompt: str) -> float:
    """Spawn → first text delta of one one-shot run, with the argv the bridge would use."""
    workdir = Path(tempfile.mkdtemp(dir=tmp))
    config = CliConfig(real_cli(cli), env)
    spec = LaunchSpec(MODELS[cli], workdir, SYSTEM)
    if cli == "copilot":
        argv = CopilotLauncher(config).argv(real_cli(cli), spec, str(uuid.uuid4()))
        (workdir / "AGENTS.md").write_text(SYSTEM)
        stdin, marker = prompt.encode(), b'"assistant.message_delta"'
    else:
        argv = ClaudeLauncher(config).argv(real_cli(cli), spec)
        (workdir / SYSTEM_PROMPT_FILE).write_text(SYSTEM)
        message = {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": prompt}]}}
        stdin, marker = (json.dumps(message) + "\n").encode(), b'"text_delta"'
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=workdir, env={**env, "NO_COLOR": "1"}, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, limit=64 * 1024 * 1024)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    first = None
    async for line in proc.stdout:
        if first is None and marker in line:
            first = time.perf_counter() - started
    await proc.wait()
    if first is None:
        raise RuntimeError(f"{cli} printed no text (exit {proc.returncode})")
    return first


def row(name: str, values: list[float]) -> str:
    return (f"| {name} | {statistics.median(values) * 1000:.0f} ms | {min(values) * 1000:.0f} ms | "
            f"{max(values) * 1000:.0f} ms | {len(values)} |")


async def measure(cli: str, runs: int, bridge: Bridge, session: aiohttp.ClientSession, env: dict[str, str],
                  tmp: Path) -> tuple[list[float], list[float]]:
    cold: list[float] = []
    warm: list[float] = []
    model = f"{cli}/{MODELS[cli]}"
    for index in range(runs + 1):
        prompt = f"Say hi, run {index}. [[fake:reply=Hello there, friend.]]"
        await bridge.warm(session)
        seconds, text = await first_content(session, bridge.url, model, prompt)
        assert text == "Hello there, friend.", text
        if index:  # the first bridged request is left out
            warm.append(seconds)
            cold.append(await cold_run(cli, env, tmp, prompt))
    return cold, warm


async def main(runs: int, only: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="first-token-"))
    (tmp / "home").mkdir()
    try:
        results = await run_all(runs, only, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after (1/5/15 min): {load()}\n")
    print("| path | median | min | max | runs |\n|---|---|---|---|---|")
    for cli, (cold, warm) in results.items():
        print(row(f"{cli}: the CLI run yourself, cold (spawn → first delta)", cold))
        print(row(f"{cli}: through the bridge, warm (request → first chunk)", warm))
    print()
    for cli, (cold, warm) in results.items():
        ratio = statistics.median(warm) / statistics.median(cold)
        print(f"{cli}: bridge / cold = {ratio:.3f} (target ≤ 0.15) {'OK' if ratio <= 0.15 else 'MISSED'}")


async def run_all(runs: int, only: str | None, tmp: Path) -> dict[str, tuple[list[float], list[float]]]:
    print(f"load average before (1/5/15 min): {load()}")
    async with running_model_server() as model_url, aiohttp.ClientSession() as session:
        env = cli_env(model_url, tmp / "home", copilot_cache(tmp))
        bridge = Bridge(env, tmp)
        await bridge.start(session)
        results = {}
        try:
            for cli in ("copilot", "claude"):
                if only in (None, cli):
                    await cold_run(cli, env, tmp, "warm the page cache")  # not counted
                    results[cli] = await measure(cli, runs, bridge, session, env, tmp)
        finally:
            await bridge.stop()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", choices=["copilot", "claude"])
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.only))
