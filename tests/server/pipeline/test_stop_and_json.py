"""The stop scanner over every chunking, and the JSON check (fences, schemas, errors)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.pipeline.gate import AnswerInvalid
from server.pipeline.json_format import JsonFormat, parse_response_format
from server.pipeline.stop import StopScanner


def whole(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """The text up to the stop sequence that is complete first (the longer one when two end together)."""
    for end in range(1, len(text) + 1):
        done = [len(s) for s in stops if text[:end].endswith(s)]
        if done:
            return text[: end - max(done)], True
    return text, False


def scanned(pieces: list[str], stops: tuple[str, ...]) -> tuple[str, bool]:
    scanner = StopScanner(stops)
    out = []
    for piece in pieces:
        sent, stopped = scanner.feed(piece)
        out.append(sent)
        if stopped:
            return "".join(out), True
    return "".join(out) + scanner.flush(), False


@settings(max_examples=400)
@given(
    st.text(alphabet="ab\n", max_size=40),
    st.lists(st.text(alphabet="ab\n", min_size=1, max_size=4), min_size=1, max_size=4),
    st.lists(st.integers(min_value=0, max_value=40), max_size=8),
)
def test_any_chunking_gives_the_whole_text_answer(text: str, stops: list[str], cuts: list[int]) -> None:
    bounds = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    assert scanned(pieces, tuple(stops)) == whole(text, tuple(stops))


def test_the_stop_complete_first_wins_whatever_the_chunks() -> None:
    assert scanned(["aaba"], ("b", "aba")) == ("aa", True)
    assert scanned(["aab", "a"], ("b", "aba")) == ("aa", True)
    assert scanned(["xab", "cd"], ("abcd", "bc")) == ("xa", True)


def test_only_a_possible_start_is_held_back() -> None:
    scanner = StopScanner(("STOP",))
    assert scanner.feed("one ST") == ("one ", False)
    assert scanner.feed("Ox") == ("STOx", False)
    assert scanner.feed("abc S") == ("abc ", False)
    assert scanner.feed("TOP and more") == ("", True)
    one_char = [StopScanner(("STOP",)).feed(c) for c in "no stop here"]
    assert "".join(sent for sent, _ in one_char) == "no stop here"


def test_fence_is_stripped_and_inner_text_kept() -> None:
    assert JsonFormat().check_text('```json\n{"a": [1, 2]}\n```\n') == '{"a": [1, 2]}'
    assert JsonFormat().check_text('  ```\n{"a": 1}```') == '{"a": 1}'
    with pytest.raises(AnswerInvalid, match="not JSON"):
        JsonFormat().check_text('Here: ```json\n{"a": 1}\n```')


def test_schema_errors_name_the_place() -> None:
    fmt = parse_response_format({"type": "json_schema", "json_schema": {"name": "x", "schema": {
        "type": "object", "properties": {"items": {"type": "array", "items": {"type": "integer"}}}}}})
    assert fmt is not None
    assert fmt.check_text('{"items": [1, 2]}') == '{"items": [1, 2]}'
    with pytest.raises(AnswerInvalid, match=r"at \$\.items\[1\]: 'two' is not of type 'integer'"):
        fmt.check_text('{"items": [1, "two"]}')


def test_text_format_asks_for_nothing_and_strict_is_kept() -> None:
    assert parse_response_format({"type": "text"}) is None
    fmt = parse_response_format({"type": "json_schema", "json_schema": {"name": "p", "strict": True, "schema": {"type": "object"}}})
    assert fmt is not None and fmt.strict and "exactly" in fmt.instruction()
