"""The CLI slots: requests first, warm processes only on free slots, and the spawn gate's order."""

from __future__ import annotations

import asyncio

import pytest

from executors import BackendBusy, CliSlots
from executors.cli.spawn_gate import SpawnGate


async def test_a_reservation_needs_a_free_slot_and_nobody_waiting() -> None:
    slots = CliSlots(2, 4)
    reclaimed: list[int] = []
    first = slots.reserve(lambda: reclaimed.append(1))
    assert first is not None and slots.reserved == 1 and slots.in_use == 0
    request = await slots.acquire()
    assert slots.reserve(lambda: None) is None  # full
    slots.release(request)
    held = [await slots.acquire()]
    waiter = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)
    # The waiter made the warm process give its slot back...
    assert reclaimed == [1] and slots.waiting == 1
    assert slots.reserve(lambda: None) is None  # ...and nothing new is reserved while it waits
    slots.release(first)
    held.append(await asyncio.wait_for(waiter, 1))
    assert slots.in_use == 2 and slots.reserved == 0
    for token in held:
        slots.release(token)
    assert slots.in_use == 0 and slots.reserve(lambda: None) is not None


async def test_a_claimed_reservation_is_a_request_slot() -> None:
    slots = CliSlots(1, 4)
    reclaimed: list[str] = []
    token = slots.reserve(lambda: reclaimed.append("asked"))
    assert token is not None
    slots.claim(token)  # the warm process now serves a request
    assert (slots.in_use, slots.reserved) == (1, 0)
    waiter = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)
    assert reclaimed == []  # a serving process is not asked to give up its slot
    slots.release(token)
    slots.release(await asyncio.wait_for(waiter, 1))
    assert slots.in_use == 0


async def test_one_reclaim_per_waiter_and_busy_beyond_the_queue() -> None:
    slots = CliSlots(2, 2)
    asked: list[int] = []
    tokens = [slots.reserve(lambda i=i: asked.append(i)) for i in range(2)]
    assert None not in tokens
    waiters = [asyncio.ensure_future(slots.acquire()) for _ in range(2)]
    await asyncio.sleep(0)
    assert asked == [0, 1]
    with pytest.raises(BackendBusy):
        await slots.acquire("claude")
    for token in tokens:
        slots.release(token or 0)
    for token in await asyncio.gather(*waiters):
        slots.release(token)
    assert (slots.in_use, slots.reserved, slots.waiting) == (0, 0, 0)


async def test_a_cancelled_waiter_passes_its_slot_on() -> None:
    slots = CliSlots(1, 4)
    held = await slots.acquire()
    first = asyncio.ensure_future(slots.acquire())
    second = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)
    slots.release(held)  # handed to `first`...
    first.cancel()  # ...which gives up before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    slots.release(await asyncio.wait_for(second, 1))
    assert (slots.in_use, slots.waiting) == (0, 0)


async def test_background_spawns_let_every_request_spawn_go_first() -> None:
    gate = SpawnGate()
    order: list[str] = []

    async def spawn(name: str, background: bool) -> None:
        async with gate.hold(background=background):
            order.append(name)
            await asyncio.sleep(0.01)

    async with gate.hold():  # a spawn in progress; behind it, a refill queues first, then requests
        refill = asyncio.ensure_future(spawn("refill", True))
        await asyncio.sleep(0)
        requests = [asyncio.ensure_future(spawn(f"request-{i}", False)) for i in range(2)]
        await asyncio.sleep(0)
    await asyncio.gather(refill, *requests)
    assert order == ["request-0", "request-1", "refill"]


async def test_with_no_queue_a_request_still_gets_a_warm_process_slot() -> None:
    slots = CliSlots(1, 0)
    token = slots.reserve(lambda: slots.release(token or 0))
    assert token is not None
    request = await asyncio.wait_for(slots.acquire(), 1)  # no queue, but the slot was only reserved
    with pytest.raises(BackendBusy):
        await slots.acquire()  # now every slot serves a request
    slots.release(request)
