"""What the bridge adds on top of calling a model server directly: first byte, total, per chunk.

Runs the fake upstream (tests/fakes/upstream_server.py, vLLM personality) and `python -m server`
in front of it as separate processes, then sends the same request to both, interleaved so machine
noise hits both paths alike, and reports medians. Usage: python bench/upstream_bench.py [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bench.measure import free_port

MODEL = "Qwen/Qwen2.5-7B-Instruct"


@dataclass(frozen=True)
class Run:
    first: float  # seconds to the first content chunk
    last: float  # seconds to the last content chunk
    total: float  # seconds to the end of the answer
    chunks: int  # content chunks received

    @property
    def gap(self) -> float:
        """Mean seconds between content chunks."""
        return (self.last - self.first) / max(1, self.chunks - 1)


async def streamed(session: aiohttp.ClientSession, url: str, model: str, prompt: str) -> Run:
    """One streamed chat request; times to the first content chunk and to `[DONE]`."""
    # Usage asked for on both paths: the bridge always asks its upstream for it.
    body = {"model": model, "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": prompt}]}
    started = time.perf_counter()
    first = last = 0.0
    chunks = 0
    async with session.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        async for line in response.content:
            if b'"content":"' in line and b'"content":""' not in line:
                chunks += 1
                last = time.perf_counter() - started
                first = first or last
            if line.startswith(b"data: [DONE]"):
                break
    return Run(first, last, time.perf_counter() - started, chunks)


async def whole(session: aiohttp.ClientSession, url: str, model: str, prompt: str) -> Run:
    """One non-streamed chat request."""
    body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    started = time.perf_counter()
    async with session.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        await response.read()
    elapsed = time.perf_counter() - started
    return Run(elapsed, elapsed, elapsed, 1)


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(200):
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def compare(session: aiohttp.ClientSession, direct_url: str, bridge_url: str, runs: int, label: str,
                  prompt: str, streaming: bool) -> None:
    send = streamed if streaming else whole
    direct: list[Run] = []
    bridged: list[Run] = []
    for _ in range(runs):
        direct.append(await send(session, direct_url, MODEL, prompt))
        bridged.append(await send(session, bridge_url, "upstream/" + MODEL, prompt))
    chunks = bridged[0].chunks
    assert all(r.chunks == chunks for r in direct + bridged), "both paths must deliver the same chunks"
    d_first, b_first = ms([r.first for r in direct]), ms([r.first for r in bridged])
    d_total, b_total = ms([r.total for r in direct]), ms([r.total for r in bridged])
    d_gap, b_gap = ms([r.gap for r in direct]) * 1000, ms([r.gap for r in bridged]) * 1000
    gap_cell = f"{d_gap:.0f} / {b_gap:.0f} µs | {b_gap - d_gap:+.0f} µs" if streaming and chunks > 1 else "- | -"
    print(f"| {label} | {d_first:.1f} / {b_first:.1f} ms | {b_first - d_first:+.2f} ms | "
          f"{d_total:.1f} / {b_total:.1f} ms | {b_total - d_total:+.2f} ms | {gap_cell} |")


async def main(runs: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="upstream-bench-"))
    up_port, bridge_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    upstream = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.upstream_server", "--personality", "vllm", "--port", str(up_port), cwd=ROOT,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    bridge_env = {**env, "HOME": str(tmp), "PORT": str(bridge_port), "SERVICE": "upstream",
                  "BACKEND_URL": f"http://127.0.0.1:{up_port}/v1", "TEMP_DIR_BASE": str(tmp / "t"),
                  "LOG_LEVEL": "warning", "LOG_DIR": str(tmp / "logs"), "LOG_REQUESTS": "false"}
    bridge = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", cwd=ROOT, env=bridge_env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    direct_url = f"http://127.0.0.1:{up_port}/v1/chat/completions"
    bridge_url = f"http://127.0.0.1:{bridge_port}/v1/chat/completions"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            await wait_ready(session, f"http://127.0.0.1:{up_port}/v1/models")
            await wait_ready(session, f"http://127.0.0.1:{bridge_port}/health")
            for _ in range(5):  # warm-up: model discovery, pooled connections
                await streamed(session, bridge_url, "upstream/" + MODEL, "warm up")
                await streamed(session, direct_url, MODEL, "warm up")
            print(f"Median of {runs} runs each, interleaved; cells are direct / through the bridge.\n")
            print("| workload | first content byte | added | total | added | time between chunks | added |")
            print("|---|---|---|---|---|---|---|")
            await compare(session, direct_url, bridge_url, runs, "stream, 20 chunks x 10 ms",
                          "[[fake:chunks=20]] [[fake:delay=0.01]] [[fake:reply=" + "word " * 40 + "]]", True)
            await compare(session, direct_url, bridge_url, runs, "stream, 200 chunks, no delay",
                          "[[fake:chunks=200]] [[fake:reply=" + "word " * 400 + "]]", True)
            await compare(session, direct_url, bridge_url, runs, "whole answer (not streamed)",
                          "Say hi", False)
    finally:
        for process in (bridge, upstream):
            process.terminate()
            await process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(main(parser.parse_args().runs))
