"""The two paths bench/bridge_bench.py compares: the fake CLI spawned directly, and the bridge over HTTP."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
FAKE_COPILOT = ROOT / "tests" / "fakes" / "bin" / "copilot"


@dataclass(frozen=True)
class Run:
    """One request: seconds to the first content, to the answer (result line / [DONE] / body), ok.

    `after_first` / `after_result`: seconds from the CLI writing its first text delta / its
    `result` line (the fake records both moments with FAKE_CLI_RECORD_DIR) to the client having it.
    """

    first: float
    answer: float
    ok: bool
    after_first: float | None = None
    after_result: float | None = None


def final_record(record: Path, timeout_s: float = 5.0) -> dict[str, Any]:
    """The fake CLI's record once it is final (it writes it when it exits)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            data = {}
        if data.get("finished"):
            return dict(data)
        time.sleep(0.01)
    return {}


def since(moment: float, recorded: Any) -> float | None:
    return moment - recorded if isinstance(recorded, float) else None


class Direct:
    """Spawns the fake CLI the way the bridge does, in a fresh working dir each time."""

    ARGV = ("--model", "gpt-5.4", "--output-format", "json", "--stream", "on", "--no-color",
            "--no-auto-update", "--disable-client-telemetry", "--no-ask-user", "--allow-all-tools",
            "--available-tools", "__none__")

    def __init__(self, base: Path, env: dict[str, str]) -> None:
        self.base = base
        self.env = env

    async def run(self, prompt: str, records: Path | None = None) -> Run:
        workdir = Path(tempfile.mkdtemp(dir=self.base))
        started = time.perf_counter()
        env = {**self.env, "FAKE_CLI_RECORD_DIR": str(records)} if records else self.env
        proc = await asyncio.create_subprocess_exec(
            str(FAKE_COPILOT), *self.ARGV, cwd=workdir, env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True)  # as the bridge does; also its own scheduler autogroup, like the bridge's CLIs
        assert proc.stdin and proc.stdout
        proc.stdin.write(prompt.encode())
        proc.stdin.close()
        first = result = None
        first_at = result_at = 0.0
        async for line in proc.stdout:
            if first is None and b'"assistant.message_delta"' in line:
                first, first_at = time.perf_counter() - started, time.time()
            elif line.startswith(b'{"type":"result"'):
                result, result_at = time.perf_counter() - started, time.time()
        code = await proc.wait()
        record = final_record(records / f"copilot-{proc.pid}.json") if records else {}
        return Run(first or 0.0, result or 0.0, code == 0 and result is not None,
                   since(first_at, record.get("first_delta_at")), since(result_at, record.get("result_at")))


class Bridged:
    """Sends chat completions to the bridge."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def stream(self, prompt: str, records: Path | None = None) -> Run:
        body = {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": prompt}]}
        before = set(records.glob("*.json")) if records else set()
        started = time.perf_counter()
        first = None
        first_at = 0.0
        async with self.session.post(self.url, json=body) as resp:
            if resp.status != 200:
                await resp.read()
                return Run(0.0, 0.0, False)
            async for line in resp.content:
                if first is None and b'"content":"' in line and b'"content":""' not in line:
                    first, first_at = time.perf_counter() - started, time.time()
                elif line.startswith(b"data: [DONE]"):
                    done = time.perf_counter() - started
                    new = set(records.glob("*.json")) - before if records else set()
                    record = final_record(new.pop()) if len(new) == 1 else {}
                    return Run(first or 0.0, done, first is not None, since(first_at, record.get("first_delta_at")))
        return Run(first or 0.0, 0.0, False)

    async def whole(self, prompt: str, records: Path | None = None) -> Run:
        body = {"model": "copilot/gpt-5.4", "messages": [{"role": "user", "content": prompt}]}
        before = set(records.glob("*.json")) if records else set()
        started = time.perf_counter()
        async with self.session.post(self.url, json=body) as resp:
            data = await resp.read()
            answered = time.perf_counter() - started
            answered_at = time.time()
        new = set(records.glob("*.json")) - before if records else set()
        record = final_record(new.pop()) if len(new) == 1 else {}
        return Run(0.0, answered, resp.status == 200 and b'"content"' in data,
                   after_result=since(answered_at, record.get("result_at")))


async def closed_loop(concurrency: int, total: int, one: Callable[[], Awaitable[Run]]) -> tuple[float, list[Run]]:
    """`concurrency` clients, each starting its next request when the last one ends, `total` in all."""
    left = total
    runs: list[Run] = []

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            try:
                runs.append(await one())
            except (aiohttp.ClientError, OSError, TimeoutError):
                runs.append(Run(0.0, 0.0, False))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started, runs
