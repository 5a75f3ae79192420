"""What the bridge adds on top of the CLI: first-byte and total time, and a concurrency sweep.

Runs `python -m server` as a separate process with the fake CLIs (same token count and delay
for the direct and the bridged runs), so the numbers measure the bridge, not a model.
Usage: python bench/bridge_bench.py [--runs 20] [--max-concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
FAKE_COPILOT = ROOT / "tests" / "fakes" / "bin" / "copilot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def direct_run(prompt: str, workdir: Path, env: dict[str, str]) -> tuple[float, float]:
    """Spawn the fake CLI as the bridge would; seconds to first text delta and to exit."""
    argv = [str(FAKE_COPILOT), "--model", "gpt-5.4", "--output-format", "json", "--stream", "on", "--no-color",
            "--no-auto-update", "--disable-client-telemetry", "--no-ask-user", "--allow-all-tools",
            "--available-tools", "__none__"]
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*argv, cwd=workdir, env=env, stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdin and proc.stdout
    proc.stdin.write(prompt.encode())
    proc.stdin.close()
    first = None
    async for line in proc.stdout:
        if first is None and b"assistant.message_delta" in line:
            first = time.perf_counter() - started
    await proc.wait()
    return first or 0.0, time.perf_counter() - started


async def bridged_run(session: aiohttp.ClientSession, url: str, prompt: str) -> tuple[float, float, bool]:
    """One streamed request; seconds to the first content byte and to [DONE], and success."""
    body = {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    started = time.perf_counter()
    first = None
    ok = False
    async with session.post(url, json=body) as resp:
        if resp.status != 200:
            await resp.read()
            return 0.0, time.perf_counter() - started, False
        async for line in resp.content:
            if first is None and b'"content":"' in line and b'"content":""' not in line:
                first = time.perf_counter() - started
            if line.startswith(b"data: [DONE]"):
                ok = True
    return first or 0.0, time.perf_counter() - started, ok


def cpu_seconds(pid: int) -> float:
    """User+system CPU time the process has used (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def health_lag(session: aiohttp.ClientSession, base: str, stop: asyncio.Event, out: list[float]) -> None:
    """Probe /health while streams run: a blocked event loop shows up as a slow answer.

    With many CLIs starting at once on a small machine, /health also waits for CPU time.
    """
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(base + "/health") as resp:
            await resp.read()
        out.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)


async def main(runs: int, max_concurrency: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    port = free_port()
    # One-shot mode: this bench compares the bridge with spawning the same CLI per request.
    env = {**os.environ, "HOME": str(tmp), "PORT": str(port), "SERVICE": "copilot", "COPILOT_MODE": "oneshot",
           "COPILOT_CLI_PATH": str(FAKE_COPILOT), "TEMP_DIR_BASE": str(tmp / "t"), "LOG_LEVEL": "warning",
           "LOG_DIR": str(tmp / "logs"), "LOG_REQUESTS": "false", "MAX_CONCURRENT_CLIS": str(max_concurrency)}
    server = await asyncio.create_subprocess_exec(sys.executable, "-m", "server", cwd=ROOT, env=env,
                                                  stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    url = base + "/v1/chat/completions"
    prompt = "[[fake:chunks=20]] [[fake:delay=0.01]] Say hi"
    try:
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
            for _ in range(100):
                try:
                    async with session.get(base + "/health") as resp:
                        if resp.status in (200, 503):
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            workdir = tmp / "direct"
            workdir.mkdir()
            await bridged_run(session, url, prompt)  # warm-up: model discovery, first spawn
            direct, bridged = [], []
            for _ in range(runs):  # interleaved, so machine noise hits both paths alike
                direct.append(await direct_run(prompt, workdir, env))
                bridged.append(await bridged_run(session, url, prompt))
            d_first = statistics.median(d[0] for d in direct) * 1000
            d_total = statistics.median(d[1] for d in direct) * 1000
            b_first = statistics.median(b[0] for b in bridged) * 1000
            b_total = statistics.median(b[1] for b in bridged) * 1000
            print(f"## Overhead (median of {runs} sequential runs, fake copilot, 20 chunks x 10 ms)\n")
            print("| path | first content byte | total |\n|---|---|---|")
            print(f"| CLI spawned directly | {d_first:.1f} ms | {d_total:.1f} ms |")
            print(f"| through the bridge | {b_first:.1f} ms | {b_total:.1f} ms |")
            print(f"| added by the bridge | {b_first - d_first:+.1f} ms | {b_total - d_total:+.1f} ms |\n")
            print("## Concurrency sweep (streams of 20 chunks x 50 ms)\n")
            print("| streams | ok | errors | req/s | p50 total (direct) | p95 total (direct) | p95 first byte (direct) "
                  "| max /health | server CPU | server RSS |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            sweep_prompt = "[[fake:chunks=20]] [[fake:delay=0.05]] Say hi"
            level = 1
            while level <= max_concurrency:
                direct_level = await asyncio.gather(*(direct_run(sweep_prompt, workdir, env) for _ in range(level)))
                d_totals = [d[1] * 1000 for d in direct_level]
                d_firsts = [d[0] * 1000 for d in direct_level]
                stop = asyncio.Event()
                lags: list[float] = []
                prober = asyncio.create_task(health_lag(session, base, stop, lags))
                started = time.perf_counter()
                cpu_before = cpu_seconds(server.pid)
                results = await asyncio.gather(*(bridged_run(session, url, sweep_prompt) for _ in range(level)),
                                               return_exceptions=True)
                elapsed = time.perf_counter() - started
                server_cpu = cpu_seconds(server.pid) - cpu_before
                rss = rss_mb(server.pid)
                stop.set()
                await prober
                good = [r for r in results if isinstance(r, tuple) and r[2]]
                totals = [r[1] * 1000 for r in good] or [0.0]
                firsts = [r[0] * 1000 for r in good] or [0.0]
                print(f"| {level} | {len(good)} | {level - len(good)} | {len(good) / elapsed:.1f} | "
                      f"{pct(totals, 0.5):.0f} ms ({pct(d_totals, 0.5):.0f}) | {pct(totals, 0.95):.0f} ms "
                      f"({pct(d_totals, 0.95):.0f}) | {pct(firsts, 0.95):.0f} ms ({pct(d_firsts, 0.95):.0f}) | "
                      f"{max(lags) * 1000 if lags else 0:.0f} ms | {server_cpu * 1000 / level:.1f} ms/stream | {rss:.0f} MB |")
                level *= 2
    finally:
        server.terminate()
        await server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--max-concurrency", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.max_concurrency))
