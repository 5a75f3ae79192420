"""What the bridge costs on top of the CLI, side by side with the direct-CLI floor, in one run.

Runs `python -m server` as a separate process with the fake Copilot CLI (a reply of `--tokens`
words, one every `--delay` seconds) and compares it with spawning the same fake CLI directly,
with the same argv, from this process. `--mode oneshot` has the bridge spawn a CLI per request
too; `--mode headless` (the default mode's path) has it answer on one long-lived CLI:
- latency, sequential and interleaved: time to the first content, and a non-stream answer
  against the moment the CLI printed its `result` line;
- load: `--concurrency` clients (MAX_CONCURRENT_CLIS is raised to match) running `--requests`
  requests back to back, alternating direct and bridged rounds: throughput, errors, the
  server's CPU per streamed request and its peak RSS; the floor's CPU per request is this
  process's own in the direct rounds. Each round also streams the same chunks from a bare
  aiohttp server with no CLI behind it (bench/stack_floor.py): what the stack alone costs.
The server runs with its default logging (LOG_LEVEL=info, LOG_REQUESTS on) unless --quiet-logs.
Usage: python bench/bridge_bench.py [--mode oneshot|headless] [--runs 20] [--concurrency 64] [--requests 256] [--sweep]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bench.bridge_clients import FAKE_COPILOT, Bridged, Direct, Run, closed_loop
from bench.measure import cpu_seconds, cpu_times, free_port, load_average, pct, status_mb

TARGETS = {"first": 2.0, "answer": 5.0, "ratio": 0.92, "cpu": 4.0, "rss": 60.0}


def row(measure: str, floor: str, bridged: str, target: str = "", met: bool | None = None) -> str:
    """One line of the results table."""
    verdict = "" if met is None else ("yes" if met else "**no**")
    return f"| {measure} | {floor} | {bridged} | {target} | {verdict} |"


async def latency(direct: Direct, bridged: Bridged, prompt: str, runs: int, records: Path) -> list[str]:
    d_runs, s_runs, w_runs = [], [], []
    for _ in range(runs):  # interleaved, so machine noise hits both paths alike
        d_runs.append(await direct.run(prompt, records))
        s_runs.append(await bridged.stream(prompt, records))
        w_runs.append(await bridged.whole(prompt, records))
    d_first = statistics.median(r.first for r in d_runs) * 1000
    b_first = statistics.median(r.first for r in s_runs) * 1000
    added_first = b_first - d_first

    def ms(values: list[float | None]) -> tuple[float, float]:
        known = [v * 1000 for v in values if v is not None]
        return (statistics.median(known), max(known)) if known else (float("inf"), float("inf"))

    d_relay, b_relay = ms([r.after_first for r in d_runs]), ms([r.after_first for r in s_runs])
    d_after, b_after = ms([r.after_result for r in d_runs]), ms([r.after_result for r in w_runs])
    first = row(f"first content, median of {runs} (request sent → first content; CLI start-up varies by ±10 ms)",
                f"{d_first:.1f} ms", f"{b_first:.1f} ms ({added_first:+.1f})", f"≤ +{TARGETS['first']:.0f} ms",
                added_first <= TARGETS["first"])
    if b_after[0] == float("inf"):  # a long-lived CLI keeps no record per request: no times to relate to
        return [first]
    return [
        first,
        row(f"first content after the CLI wrote its first delta, median / max of {runs} (direct: the line read)",
            f"{d_relay[0]:.2f} / {d_relay[1]:.2f} ms", f"{b_relay[0]:.2f} / {b_relay[1]:.2f} ms"),
        row(f"non-stream answer after the CLI wrote its `result` line, median / max of {runs} "
            "(direct: the line read)", f"{d_after[0]:.2f} / {d_after[1]:.2f} ms",
            f"**{b_after[0]:.2f}** / {b_after[1]:.2f} ms", f"≤ +{TARGETS['answer']:.0f} ms",
            b_after[0] <= TARGETS["answer"]),
    ]


@dataclass(frozen=True)
class StackFloor:
    """The bare aiohttp server of bench/stack_floor.py: its two ways to write, and its pid."""

    through_aiohttp: Bridged
    straight_to_socket: Bridged
    pid: int


async def measured_round(pid: int, concurrency: int, requests: int,
                         one: Callable[[], Awaitable[Run]]) -> tuple[float, float, float, list[Run]]:
    """One closed-loop round: seconds it took, user and system CPU seconds `pid` used, and the runs."""
    user_before, sys_before = cpu_times(pid)
    elapsed, runs = await closed_loop(concurrency, requests, one)
    user_after, sys_after = cpu_times(pid)
    return elapsed, user_after - user_before, sys_after - sys_before, runs


async def load(direct: Direct, bridged: Bridged, server_pid: int, stack: StackFloor, prompt: str,
               concurrency: int, requests: int, rounds: int) -> list[str]:
    d_time = b_time = b_user = b_sys = d_cpu = a_cpu = r_cpu = 0.0
    d_runs: list[Run] = []
    b_runs: list[Run] = []
    s_runs: list[Run] = []
    for _ in range(rounds):  # alternating, so a busy minute on the machine hits every path
        elapsed, user, system, runs = await measured_round(os.getpid(), concurrency, requests,
                                                           lambda: direct.run(prompt))
        d_time += elapsed
        d_cpu += user + system
        d_runs += runs
        elapsed, user, system, runs = await measured_round(server_pid, concurrency, requests,
                                                           lambda: bridged.stream(prompt))
        b_user += user
        b_sys += system
        b_time += elapsed
        b_runs += runs
        _, user, system, runs = await measured_round(stack.pid, concurrency, requests,
                                                     lambda: stack.through_aiohttp.stream(prompt))
        a_cpu += user + system
        s_runs += runs
        _, user, system, runs = await measured_round(stack.pid, concurrency, requests,
                                                     lambda: stack.straight_to_socket.stream(prompt))
        r_cpu += user + system
        s_runs += runs
    d_ok = sum(r.ok for r in d_runs)
    b_ok = sum(r.ok for r in b_runs)
    d_rps, b_rps = d_ok / d_time, b_ok / b_time
    ratio = b_rps / d_rps
    errors = len(b_runs) - b_ok
    n = len(b_runs)
    cpu_ms = (b_user + b_sys) * 1000 / n
    floor_ms, aiohttp_ms, socket_ms = (cpu * 1000 / (rounds * requests) for cpu in (d_cpu, a_cpu, r_cpu))
    peak = status_mb(server_pid, "VmHWM")
    d_answers = [r.answer * 1000 for r in d_runs]
    b_answers = [r.answer * 1000 for r in b_runs]
    return [
        row(f"throughput at C={concurrency} ({n} streams)", f"{d_rps:.2f} req/s",
            f"{b_rps:.2f} req/s (**{ratio:.3f}** of the floor)", f"≥ {TARGETS['ratio']}", ratio >= TARGETS["ratio"]),
        row(f"errors at C={concurrency}", str(len(d_runs) - d_ok), str(errors), "0", errors == 0),
        row(f"p50 / p95 stream time at C={concurrency}", f"{pct(d_answers, .5):.0f} / {pct(d_answers, .95):.0f} ms",
            f"{pct(b_answers, .5):.0f} / {pct(b_answers, .95):.0f} ms"),
        row(f"server CPU per streamed request at C={concurrency} (floor: this process spawning and reading the "
            "CLI, no HTTP, no clean-up)", f"{floor_ms:.2f} ms",
            f"**{cpu_ms:.2f} ms** (user {b_user * 1000 / n:.2f}, system {b_sys * 1000 / n:.2f})",
            f"≤ {TARGETS['cpu']:.0f} ms", cpu_ms <= TARGETS["cpu"]),
        row(f"CPU per request of a bare aiohttp server streaming the same chunks, no CLI, at C={concurrency} "
            f"({sum(r.ok for r in s_runs)}/{len(s_runs)} ok): `response.write` / straight to the socket",
            "–", f"{aiohttp_ms:.2f} / {socket_ms:.2f} ms"),
        row("the two floors added: the CLI spawned and read + the chunks sent by aiohttp / straight to the socket",
            f"{floor_ms + aiohttp_ms:.2f} / {floor_ms + socket_ms:.2f} ms", "–"),
        row("server RSS, peak (VmHWM)", "–", f"{peak:.1f} MB", f"< {TARGETS['rss']:.0f} MB", peak < TARGETS["rss"]),
    ]


async def probe_health(session: aiohttp.ClientSession, base: str, stop: asyncio.Event, lags: list[float]) -> None:
    """Time /health while streams run: a blocked event loop shows up as a slow answer."""
    while not stop.is_set():
        started = time.perf_counter()
        async with session.get(base + "/health") as resp:
            await resp.read()
        lags.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)


async def sweep(bridged: Bridged, direct: Direct, base: str, server_pid: int, prompt: str, top: int) -> None:
    print("\n### Concurrency sweep (one burst per level)\n")
    print("| streams | ok | req/s | p50 total (direct) | p95 first content (direct) | max /health | server CPU |")
    print("|---|---|---|---|---|---|---|")
    level = 1
    while level <= top:
        d_runs = await asyncio.gather(*(direct.run(prompt) for _ in range(level)))
        stop = asyncio.Event()
        lags: list[float] = []
        prober = asyncio.create_task(probe_health(bridged.session, base, stop, lags))
        cpu_before = cpu_seconds(server_pid)
        started = time.perf_counter()
        b_runs = await asyncio.gather(*(bridged.stream(prompt) for _ in range(level)))
        elapsed = time.perf_counter() - started
        cpu_ms = (cpu_seconds(server_pid) - cpu_before) * 1000 / level
        stop.set()
        await prober
        good = [r for r in b_runs if r.ok]
        print(f"| {level} | {len(good)} | {len(good) / elapsed:.1f} | {pct([r.answer for r in good], .5) * 1000:.0f} ms "
              f"({pct([r.answer for r in d_runs], .5) * 1000:.0f}) | {pct([r.first for r in good], .95) * 1000:.0f} ms "
              f"({pct([r.first for r in d_runs], .95) * 1000:.0f}) | {max(lags, default=0) * 1000:.0f} ms | {cpu_ms:.1f} ms |")
        level *= 2


@contextlib.asynccontextmanager
async def bridge(env: dict[str, str]) -> AsyncIterator[tuple[str, int]]:
    """`python -m server` with `env`, ready; its base URL and pid."""
    port = free_port()
    async with serving([sys.executable, "-m", "server"], {**env, "PORT": str(port)}, port) as started:
        yield started


@contextlib.asynccontextmanager
async def stack_floor(env: dict[str, str], tokens: int, delay: float) -> AsyncIterator[tuple[str, int]]:
    """bench/stack_floor.py (aiohttp alone, no CLI) streaming the same chunks, ready; its base URL and pid."""
    port = free_port()
    argv = [sys.executable, str(ROOT / "bench" / "stack_floor.py"), "--port", str(port), "--tokens", str(tokens),
            "--delay", str(delay)]
    async with serving(argv, env, port) as started:
        yield started


@contextlib.asynccontextmanager
async def serving(argv: list[str], env: dict[str, str], port: int) -> AsyncIterator[tuple[str, int]]:
    """A server process on `port`, once its /health answers; its base URL and pid."""
    server = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, env=env,
                                                  stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(base + "/health") as resp:
                        if resp.status in (200, 503):
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        yield base, server.pid
    finally:
        server.terminate()
        await server.wait()


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    (tmp / "direct").mkdir()
    records = tmp / "records"
    records.mkdir()
    env = {**os.environ, "HOME": str(tmp), "SERVICE": "copilot", "COPILOT_MODE": args.mode,
           "COPILOT_CLI_PATH": str(FAKE_COPILOT), "TEMP_DIR_BASE": str(tmp / "t"), "LOG_DIR": str(tmp / "logs"),
           "MAX_CONCURRENT_CLIS": str(args.concurrency), "MAX_QUEUED_REQUESTS": str(4 * args.concurrency)}
    for name in ("API_KEY", "API_KEYS", "WORKERS", "FAKE_CLI_RECORD_DIR"):
        env.pop(name, None)
    if args.mode == "headless":  # its sessions need an account (the fake takes any token); one-shot runs without
        env["GH_TOKEN"] = "gho_bench_fake_token"
    if args.quiet_logs:
        env.update(LOG_LEVEL="warning", LOG_REQUESTS="false")
    reply = " ".join(f"word{i}" for i in range(args.tokens))
    prompt = f"[[fake:reply={reply}]] [[fake:chunks={args.tokens}]] [[fake:delay={args.delay}]] Say hi"
    print(f"fake copilot, {args.tokens} tokens x {args.delay * 1000:g} ms; bridge mode: {args.mode}; logging: "
          f"{'LOG_LEVEL=warning, LOG_REQUESTS=false' if args.quiet_logs else 'defaults (info, LOG_REQUESTS on)'}; "
          f"load average at start: {load_average()}\n")
    direct = Direct(tmp / "direct", env)
    rows: list[str] = []
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        if args.runs:  # the CLIs record when they wrote their result line (only in this phase)
            async with bridge({**env, "FAKE_CLI_RECORD_DIR": str(records)}) as (base, _):
                bridged = Bridged(session, base + "/v1/chat/completions")
                for _ in range(3):  # warm-up: model discovery, first spawns, imports
                    await bridged.stream(prompt)
                    await bridged.whole(prompt)
                rows += await latency(direct, bridged, prompt, args.runs, records)
        if args.requests or args.sweep:
            async with bridge(env) as (base, pid), stack_floor(env, args.tokens, args.delay) as (floor_base, floor_pid):
                bridged = Bridged(session, base + "/v1/chat/completions")
                stack = StackFloor(Bridged(session, floor_base + "/v1/chat/completions"),
                                   Bridged(session, floor_base + "/raw/v1/chat/completions"), floor_pid)
                for _ in range(3):
                    await bridged.stream(prompt)
                    await stack.through_aiohttp.stream(prompt)
                if args.requests:
                    rows += await load(direct, bridged, pid, stack, prompt, args.concurrency, args.requests, args.rounds)
                print("| measure | CLI spawned directly (floor) | through the bridge | target | met |")
                print("|---|---|---|---|---|")
                print("\n".join(rows))
                if args.sweep:
                    await sweep(bridged, direct, base, pid, prompt, args.concurrency)
        else:
            print("| measure | CLI spawned directly (floor) | through the bridge | target | met |")
            print("|---|---|---|---|---|")
            print("\n".join(rows))
    print(f"\nload average at the end: {load_average()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="sequential runs per path (0: skip)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--requests", type=int, default=256, help="requests per load round and path (0: skip)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating direct/bridged load rounds")
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.005)
    parser.add_argument("--mode", choices=("oneshot", "headless"), default="oneshot",
                        help="the bridge's COPILOT_MODE: a CLI per request like the floor, or one long-lived CLI")
    parser.add_argument("--quiet-logs", action="store_true", help="LOG_LEVEL=warning, LOG_REQUESTS=false")
    parser.add_argument("--sweep", action="store_true", help="also a burst at 1, 2, 4 … concurrency streams")
    asyncio.run(main(parser.parse_args()))
