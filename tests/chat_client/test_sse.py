"""The SSE decoder gives the same events however the stream is cut into pieces."""

from __future__ import annotations

import random

import pytest

from chat_client.sse import SseDecoder, SseEvent

SAMPLE = (
    ": keep-alive\r\n\r\n"
    'data: {"a": 1}\n\n'
    "data:no-space\r\n\r\n"
    "event: custom\ndata: line one\ndata: line two\n\n"
    "id: 7\nretry: 10\n\n"
    "data: ünïcødé ✓\r\r"
    "data: [DONE]\n\n"
    "data: never dispatched"
)
EXPECTED = [
    SseEvent('{"a": 1}'),
    SseEvent("no-space"),
    SseEvent("line one\nline two", event="custom"),
    SseEvent("ünïcødé ✓"),
    SseEvent("[DONE]"),
]


def decode(pieces: list[str]) -> list[SseEvent]:
    decoder = SseDecoder()
    return [event for piece in pieces for event in decoder.feed(piece)]


def test_whole_text() -> None:
    assert decode([SAMPLE]) == EXPECTED


def test_one_character_at_a_time() -> None:
    assert decode(list(SAMPLE)) == EXPECTED


@pytest.mark.parametrize("offset", range(len(SAMPLE) + 1))
def test_split_at_every_offset(offset: int) -> None:
    assert decode([SAMPLE[:offset], SAMPLE[offset:]]) == EXPECTED


def test_random_splits() -> None:
    rng = random.Random(1234)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(SAMPLE)), rng.randint(1, 12)))
        pieces = [SAMPLE[a:b] for a, b in zip([0, *cuts], [*cuts, len(SAMPLE)])]
        assert decode(pieces) == EXPECTED
