"""Read a Responses event stream strictly, and check the rules every such stream follows."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse

from tests.server.dialect_replies import WEATHER_TOOL

LIFECYCLE = ("response.created", "response.in_progress", "response.completed", "response.incomplete", "response.failed")
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def parse_events(raw: str) -> list[dict[str, Any]]:
    """Every event: an `event:` line naming the type, one `data:` line of JSON, a blank line; comments skipped."""
    assert raw.endswith("\n\n"), "the last event must be terminated by a blank line"
    events = []
    for block in raw.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), block
        event = json.loads(lines[1][len("data: "):])
        assert lines[0] == f"event: {event['type']}"
        events.append(event)
    return events


async def read_events(response: ClientResponse) -> list[dict[str, Any]]:
    """The whole stream, parsed and checked (see `check_stream`)."""
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    events = parse_events((await response.read()).decode())
    check_stream(events)
    return events


def check_stream(events: list[dict[str, Any]]) -> None:
    """Numbering, one response id, items opened before their deltas and closed once, terminal last."""
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    assert events[-1]["type"] in TERMINAL and all(e["type"] not in TERMINAL for e in events[:-1])
    ids = {e["response"]["id"] for e in events if e["type"] in LIFECYCLE}
    assert len(ids) == 1, ids
    open_items: dict[int, str] = {}
    done: dict[int, dict[str, Any]] = {}
    for event in events:
        if event["type"] == "response.output_item.added":
            assert event["output_index"] not in open_items and event["output_index"] not in done
            open_items[event["output_index"]] = event["item"]["id"]
        elif event["type"] == "response.output_item.done":
            assert open_items.pop(event["output_index"]) == event["item"]["id"]
            done[event["output_index"]] = event["item"]
        elif "item_id" in event:
            assert open_items.get(event["output_index"]) == event["item_id"], event
    final = events[-1]["response"]
    if final["status"] != "failed":  # a failed stream may stop in the middle of an item
        assert not open_items, "every added item is done"
        assert final["output"] == [done[i] for i in sorted(done)]


def kinds(events: list[dict[str, Any]]) -> list[str]:
    """Event types without the `response.` prefix."""
    return [e["type"].removeprefix("response.") for e in events]


def output_text(body: dict[str, Any]) -> str:
    """The concatenated output_text of a Response's message items."""
    return "".join(p["text"] for i in body["output"] if i["type"] == "message" for p in i["content"] if p["type"] == "output_text")


# The chat tool in the Responses API's flat shape.
WEATHER = {"type": "function", **WEATHER_TOOL["function"], "strict": False}
