"""64 streams at once against the real CLIs in the long-lived modes: errors and leftovers.

The bridge (`python -m server`, Copilot on its headless server, Claude from its pool) gets N
concurrent streamed requests per CLI; the fake model server streams a few tokens to each. Then
it checks that every answer is right and nothing is left: no session dir, no temp dir but the
pool's own, no process but the warm ones; and after SIGTERM, no process and no dir at all.
Usage: python bench/concurrent_real_bench.py [--streams 64] [--claude-slots 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.real_cli_setup import (
    Bridge,
    cli_env,
    copilot_cache,
    first_content,
    load,
    processes_with,
    session_dirs,
)
from tests.fakes.model_server import running_model_server

REPLY = "one two three four five"


async def burst(session: aiohttp.ClientSession, bridge: Bridge, model: str, streams: int) -> tuple[int, list[float], float]:
    """N streams at once; errors, each one's time to first chunk, the wall time."""
    prompt = f"[[fake:reply={REPLY}]] [[fake:chunks=5]] [[fake:delay=0.05]]"
    started = time.perf_counter()
    results = await asyncio.gather(*(first_content(session, bridge.url, model, f"{i}: {prompt}") for i in range(streams)),
                                   return_exceptions=True)
    wall = time.perf_counter() - started
    errors = [r for r in results if isinstance(r, BaseException) or r[1] != REPLY]
    for error in errors[:3]:
        print(f"  error: {error!r}")
    firsts = [r[0] for r in results if not isinstance(r, BaseException)]
    return len(errors), firsts, wall


async def leftovers(bridge: Bridge, home: Path, marker: str, warm_groups: int) -> dict[str, object]:
    """What is left once every stream ended: CLI process groups (the warm ones count), dirs."""
    assert bridge.proc is not None
    own = _group(bridge.proc.pid)  # the bridge itself carries the marker too
    for _ in range(100):  # session deletion and dir removal finish just after the answers
        groups = {pgid for pid in processes_with(marker) if (pgid := _group(pid)) not in (None, own)}
        dirs = list(bridge.temp_base.iterdir())
        if not session_dirs(home) and len(groups) <= warm_groups and len(dirs) <= 1:
            break
        await asyncio.sleep(0.1)
    return {"session dirs": len(session_dirs(home)), "CLI process groups": len(groups), "temp dirs": len(dirs)}


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


async def main(streams: int, claude_slots: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="concurrent-real-"))
    try:
        report = await run_all(streams, claude_slots, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after (1/5/15 min): {load()}\n")
    print("| CLI | streams | MAX_CONCURRENT_CLIS | errors | first chunk p50 / max | wall | left while running "
          "(warm: the headless server and one pooled claude with its dir) | left after SIGTERM |\n|---|---|---|---|---|---|---|---|")
    for cli, slots, errors, firsts, wall, left, after in report:
        p50 = statistics.median(firsts) if firsts else float("nan")
        print(f"| {cli} | {streams} | {slots} | {errors} | {p50:.2f} s / {max(firsts, default=0):.2f} s | {wall:.1f} s "
              f"| {left} | {after} |")


Report = list[tuple[str, int, int, list[float], float, dict[str, object], dict[str, object]]]


async def run_all(streams: int, claude_slots: int, tmp: Path) -> Report:
    (tmp / "home").mkdir()
    print(f"load average before (1/5/15 min): {load()}")
    async with running_model_server() as model_url:
        env = cli_env(model_url, tmp / "home", copilot_cache(tmp))
        marker = env["COPILOT_PROVIDER_API_KEY"]  # in every CLI process this bridge starts
        timeout = aiohttp.ClientTimeout(total=600)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
            report: Report = []
            for cli, slots in (("copilot", streams), ("claude", claude_slots)):
                bridge = Bridge(env, tmp / cli, MAX_CONCURRENT_CLIS=str(slots), MAX_QUEUED_REQUESTS="256")
                (tmp / cli).mkdir()
                await bridge.start(session)
                model = "copilot/gpt-5.4" if cli == "copilot" else "claude/sonnet"
                errors, firsts, wall = await burst(session, bridge, model, streams)
                left = await leftovers(bridge, tmp / "home", marker, warm_groups=2)  # headless server + one pooled claude
                code = await bridge.stop()
                await asyncio.sleep(1)
                after = {"processes": len(processes_with(marker)), "temp dirs": len(list(bridge.temp_base.iterdir())),
                         "session dirs": len(session_dirs(tmp / "home")), "exit status": code}
                report.append((cli, slots, errors, firsts, wall, left, after))
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--claude-slots", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.streams, args.claude_slots))
