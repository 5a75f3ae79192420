"""Claude processes started ahead of demand: refill, idle expiry, slots, memory, exact prompts."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from executors import Backend, CliSlots, TextDelta
from executors.cli.transcript import DEFAULT_SYSTEM_PROMPT
from tests.conftest import cli_records
from tests.executors.backend_helpers import (
    collect,
    make_backend,
    pid_alive,
    request_for,
    running_backend,
    wait_until,
)

POOL = "claude-pool"


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def idle_pids(backend: Backend) -> list[int]:
    """The pids of the pool's idle processes, as /health shows them."""
    return list((await backend.health()).detail["warm"]["idle_pids"])


async def until_idle(backend: Backend, count: int, timeout: float = 10) -> list[int]:
    """Wait until the pool has `count` idle processes; their pids."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(pids := await idle_pids(backend)) != count:
        assert asyncio.get_running_loop().time() < deadline, f"{pids} idle, not {count}"
        await asyncio.sleep(0.05)
    return pids


def dirs(base: Path) -> list[Path]:
    return sorted(base.iterdir())


async def test_a_taken_process_is_replaced_in_the_background(cli_env: dict[str, str], tmp_path: Path,
                                                            record_dir: Path) -> None:
    base = tmp_path / "base"
    async with running_backend(POOL, cli_env, base) as backend:
        (first,) = await idle_pids(backend)
        assert len(dirs(base)) == 1  # the idle process's own empty dir
        assert text_of(await collect(backend, request_for("claude", "hi"))) == "Hello from mock."
        (record,) = [r for r in cli_records(record_dir) if r["prompt"] is not None]
        assert record["pid"] == first  # the warm one answered
        (second,) = await until_idle(backend, 1)
        await wait_until(lambda: not pid_alive(first), 5)
        assert second != first and not pid_alive(first) and pid_alive(second)
        stats = backend.stats()
        assert (stats["served_warm"], stats["cold_starts"], stats["processes_idle"]) == (1, 0, 1)
        assert len(dirs(base)) == 1 and not Path(record["cwd"]).exists()
    assert not pid_alive(second) and dirs(base) == []  # closing the backend stops the idle one


async def test_models_asked_for_are_kept_warm_until_the_idle_timeout(cli_env: dict[str, str], tmp_path: Path) -> None:
    base = tmp_path / "base"
    slots = CliSlots(8, 8)
    config = {"CLAUDE_POOL_MODELS": "", "CLAUDE_POOL_IDLE_TIMEOUT": "2"}
    async with running_backend(POOL, cli_env, base, config=config, slots=slots, warm=False) as backend:
        await asyncio.sleep(1.2)
        assert await idle_pids(backend) == []  # a model never asked for gets none
        assert text_of(await collect(backend, request_for("claude", "hi"))) == "Hello from mock."
        assert backend.stats()["cold_starts"] == 1
        (pid,) = await until_idle(backend, 1)  # asked for: now kept warm
        await wait_until(lambda: len(dirs(base)) == 1, 5)  # the cold run's dir goes just after its answer
        assert slots.reserved == 1
        health = (await backend.health()).detail
        assert health["mode"] == "pool" and health["warm"]["idle_by_model"] == {"sonnet": 1}
        await until_idle(backend, 0)  # not asked for again: it goes
        await wait_until(lambda: not pid_alive(pid) and dirs(base) == [] and slots.reserved == 0, 5)


async def test_a_waiting_request_takes_the_slot_of_an_idle_process(cli_env: dict[str, str], tmp_path: Path) -> None:
    slots = CliSlots(1, 8)
    async with running_backend(POOL, cli_env, tmp_path / "base", slots=slots) as backend:
        (idle,) = await idle_pids(backend)
        assert slots.reserved == 1  # the warm sonnet holds the only slot
        request = request_for("claude", "hi")
        other = type(request)("opus", request.messages, tool_protocol=request.tool_protocol)
        events = await asyncio.wait_for(collect(backend, other), 15)
        assert text_of(events) == "Hello from mock."
        assert not pid_alive(idle) and backend.stats()["cold_starts"] == 1


async def test_the_memory_budget_limits_the_pool(cli_env: dict[str, str], tmp_path: Path) -> None:
    config = {"CLAUDE_POOL_MEMORY_MB": "1"}  # not even one process fits
    async with running_backend(POOL, cli_env, tmp_path / "base", config=config, warm=False) as backend:
        await asyncio.sleep(1.5)
        assert await idle_pids(backend) == []
        assert text_of(await collect(backend, request_for("claude", "hi"))) == "Hello from mock."
        await asyncio.sleep(1.5)
        assert await idle_pids(backend) == [] and backend.stats()["cold_starts"] == 1


async def test_a_process_that_dies_while_waiting_is_replaced(cli_env: dict[str, str], tmp_path: Path) -> None:
    async with running_backend(POOL, cli_env, tmp_path / "base") as backend:
        (pid,) = await idle_pids(backend)
        os.killpg(pid, signal.SIGKILL)
        await wait_until(lambda: backend.stats()["restarts"] == 1, 10)
        (replacement,) = await until_idle(backend, 1)
        assert replacement != pid
        assert backend.stats()["restarts"] == 1
        assert text_of(await collect(backend, request_for("claude", "hi"))) == "Hello from mock."
        assert (await backend.health()).detail["warm"]["restarts"] == 1


async def test_the_model_gets_exactly_the_clients_system_prompt(cli_env: dict[str, str], tmp_path: Path,
                                                               record_dir: Path) -> None:
    tool = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
    async with running_backend(POOL, cli_env, tmp_path / "base") as backend:
        served: list[int] = []
        for system, tools in ((None, ()), ("One.\nTwo.", ()), ("Be kind.", (tool,))):
            (warm,) = await until_idle(backend, 1)
            await collect(backend, request_for("claude", "hi", system=system, tools=tools))
            (record,) = [r for r in cli_records(record_dir) if r["prompt"] is not None and r["pid"] not in served]
            assert record["pid"] == warm  # answered by a process started before the request
            served.append(record["pid"])
            seen = record["system_prompt"]
            if system is None:
                assert seen == DEFAULT_SYSTEM_PROMPT
            elif not tools:
                assert seen == "One.\nTwo."
            else:
                assert seen.startswith("Be kind.\n\n") and "get_time" in seen
            assert record["system_prompt_file_content"] is None


async def test_one_shot_mode_keeps_no_process(cli_env: dict[str, str], tmp_path: Path) -> None:
    backend = make_backend("claude", cli_env, tmp_path / "base",
                           config={"CLAUDE_MODE": "oneshot", "CLAUDE_POOL_MODELS": "sonnet"})
    await backend.start()
    try:
        await asyncio.sleep(1.2)
        assert backend.stats()["processes_warm"] == 0 and "warm" not in (await backend.health()).detail
    finally:
        await backend.aclose()


async def test_auto_mode_stops_pooling_when_idle_processes_keep_dying(cli_env: dict[str, str], tmp_path: Path) -> None:
    config = {"CLAUDE_MODE": "auto"}
    async with running_backend(POOL, cli_env, tmp_path / "base", config=config) as backend:
        for deaths in range(1, 4):
            (pid,) = await until_idle(backend, 1)
            os.killpg(pid, signal.SIGKILL)
            await wait_until(lambda n=deaths: backend.stats()["restarts"] == n, 10)
        await asyncio.sleep(2.5)  # more than the upkeep tick: no fourth process is started
        warm = (await backend.health()).detail["warm"]
        assert warm["paused"] is True and warm["processes"] == 0 and warm["restarts"] == 3
        assert text_of(await collect(backend, request_for("claude", "hi"))) == "Hello from mock."  # cold
