"""How long a burst of streams can stall the server's event loop.

Runs the app in this process with the fake Copilot CLI, fires N streams at once, and measures
how late a 10 ms ticker on the same loop wakes up (p50, p99, max), plus the time spent in the
synchronous fork/exec of each CLI. Usage: python bench/loop_lag_bench.py [N ...]
"""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import time
from asyncio import unix_events
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.app import create_app
from server.logging_setup import configure_logging
from server.settings import Settings

PROMPT = "[[fake:chunks=20]] [[fake:delay=0.05]] Say hi"
popen_seconds: list[float] = []
_original_start = unix_events._UnixSubprocessTransport._start


def _timed_start(self: Any, *args: Any, **kwargs: Any) -> None:
    started = time.perf_counter()
    _original_start(self, *args, **kwargs)
    popen_seconds.append(time.perf_counter() - started)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] * 1000


async def burst(streams: int) -> None:
    home = tempfile.mkdtemp()
    settings = Settings(
        copilot_cli_path=str(ROOT / "tests" / "fakes" / "bin" / "copilot"), temp_dir_base=Path(tempfile.mkdtemp()),
        max_concurrent_clis=streams, log_requests=False, log_dir=Path(home) / "logs",
    )
    runner = web.AppRunner(create_app(settings, env={"PATH": "/usr/bin:/bin", "HOME": home}), handler_cancellation=True)
    await runner.setup()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    body = {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - started - 0.01)

    async with aiohttp.ClientSession() as session:
        async def one() -> None:
            async with session.post(url, json=body) as resp:
                await resp.read()

        await one()  # warm-up: model discovery
        popen_seconds.clear()
        tick = asyncio.create_task(ticker())
        await asyncio.gather(*(one() for _ in range(streams)))
        stop.set()
        await tick
    await runner.cleanup()
    print(f"| {streams} | {pct(lags, 0.5):.1f} ms | {pct(lags, 0.99):.1f} ms | {max(lags) * 1000:.1f} ms | "
          f"{pct(popen_seconds, 0.5):.1f} ms | {max(popen_seconds) * 1000:.1f} ms |")


def main() -> None:
    unix_events._UnixSubprocessTransport._start = _timed_start  # type: ignore[method-assign]
    configure_logging("warning")
    print("| streams at once | loop lag p50 | p99 | max | fork/exec p50 | fork/exec max |")
    print("|---|---|---|---|---|---|")
    for streams in [int(a) for a in sys.argv[1:]] or [8, 32, 64]:
        asyncio.run(burst(streams))


if __name__ == "__main__":
    main()
