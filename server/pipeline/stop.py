"""`stop` sequences, applied by the bridge: the answer ends before the first one, streaming included.

"First" is the one complete first (with `stop=["b", "aba"]`, "aaba" ends as "aa"), so the
result does not depend on how the text arrived in pieces.

Only a tail that could still become a stop sequence is held back; everything before it goes out
as it arrives. On a match the backend run is closed at once (for a CLI: its process group is
killed) and the answer ends with finish_reason "stop".
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

from server.converters import CallArgs, CallStart, TextOut
from server.pipeline.events import Completed, OutputEvent, Usage
from server.protocol.errors import InvalidRequest

MAX_STOPS = 4  # as OpenAI


def parse_stop(value: Any) -> tuple[str, ...]:
    """A string or a list of up to 4 strings; empty strings stop nothing and are dropped."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise InvalidRequest("'stop' must be a string or an array of strings", param="stop")
    if len(items) > MAX_STOPS:
        raise InvalidRequest(f"'stop' takes at most {MAX_STOPS} sequences", param="stop")
    return tuple(dict.fromkeys(s for s in items if s))


class StopScanner:
    """Finds the first stop sequence in text fed piece by piece, holding back only a possible start."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self._stops = stops
        self._longest = max(len(s) for s in stops)
        self._held = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """The text that is safe to send, and whether a stop sequence ended the answer."""
        buffer = self._held + text
        # Only the held tail (shorter than any stop) is scanned again, so this stays linear.
        # The answer ends where a stop sequence is first complete, as a model's generation would:
        # the match that ends first wins (the longer one when two end together).
        hits = [(i + len(s), i) for s in self._stops if (i := buffer.find(s)) >= 0]
        if hits:
            self._held = ""
            return buffer[: min(hits)[1]], True
        keep = self._possible_start(buffer)
        self._held = buffer[len(buffer) - keep :]
        return buffer[: len(buffer) - keep], False

    def flush(self) -> str:
        """The held tail, once no more text can follow it."""
        held, self._held = self._held, ""
        return held

    def _possible_start(self, buffer: str) -> int:
        """The length of the longest end of `buffer` that begins a stop sequence."""
        for size in range(min(len(buffer), self._longest - 1), 0, -1):
            tail = buffer[-size:]
            if any(s.startswith(tail) for s in self._stops):
                return size
        return 0


async def apply_stop(
    events: AsyncGenerator[OutputEvent, None], stops: tuple[str, ...], estimate: Callable[[int], Usage]
) -> AsyncGenerator[OutputEvent, None]:
    """The answer up to the first stop sequence; `estimate(output_chars)` gives usage when cut short."""
    scanner = StopScanner(stops)
    out_chars = 0
    async with aclosing(events):
        async for event in events:
            if isinstance(event, TextOut):
                out_chars += len(event.text)
                text, stopped = scanner.feed(event.text)
                if text:
                    yield TextOut(text)
                if stopped:
                    await events.aclose()  # ends the backend run now: the CLI is killed, its dir removed
                    yield Completed("stop", estimate(out_chars))
                    return
                continue
            if isinstance(event, (CallStart, Completed)):
                # A call or the end interrupts the text: what was held can no longer start a stop.
                held = scanner.flush()
                if held:
                    yield TextOut(held)
            elif isinstance(event, CallArgs):
                out_chars += len(event.fragment)
            yield event
