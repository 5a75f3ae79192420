"""Streaming behaviour: what is forwarded at once, what is held back, and the shape of call events."""

from __future__ import annotations

import json

import pytest
from converter_samples import SAMPLES, TOOLS, Sample

from server.converters import CallArgs, CallEnd, CallStart, ConverterEvent, StreamingParser, TextOut
from server.converters.jsonscan import json_end
from server.converters.tape import Tape

CALL = '<tool_call>\n{"name": "search", "arguments": {"q": "x"}}\n</tool_call>'


def texts(events: list[ConverterEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextOut))


def char_by_char(text: str, tools: list[dict] | None = TOOLS) -> list[list[ConverterEvent]]:
    parser = StreamingParser(tools)
    return [parser.feed(c) for c in text] + [parser.finish()]


def test_plain_text_is_forwarded_at_once() -> None:
    parser = StreamingParser(TOOLS)
    assert parser.feed("Hello wor") == [TextOut("Hello wor")]
    assert parser.feed("ld. a < b, [x] {y}") == [TextOut("ld. a < b, [x] {y}")]


def test_a_possible_marker_is_held_then_released_when_it_cannot_be_one() -> None:
    parser = StreamingParser(TOOLS)
    assert parser.feed("Hi <tool_") == [TextOut("Hi ")]
    assert parser.feed("box> there") == [TextOut("<tool_box> there")]


def test_a_held_prefix_comes_out_at_finish() -> None:
    parser = StreamingParser(TOOLS)
    assert parser.feed("see [TOOL") == [TextOut("see ")]
    assert parser.finish() == [TextOut("[TOOL")]


@pytest.mark.parametrize(
    "prefix", ["<tool_call", "<function", "<invoke", "[TOOL_CALLS", "<|", "<｜", "<think"]
)
def test_every_marker_prefix_is_held(prefix: str) -> None:
    parser = StreamingParser(TOOLS)
    assert texts(parser.feed("a " + prefix)) == "a "
    assert texts(parser.finish()) == prefix


def test_brace_at_line_start_is_held_only_while_it_could_be_a_call() -> None:
    parser = StreamingParser(TOOLS)
    assert parser.feed("Result:\n{") == [TextOut("Result:\n")]
    assert parser.feed('"name": "Jo') == []  # could still be the name of an offered tool
    assert parser.feed("hn") == []
    assert parser.feed('", "age": 3}') == [TextOut('{"name": "John", "age": 3}')]


def test_a_bracket_in_prose_is_held_only_while_it_could_be_a_call_list() -> None:
    parser = StreamingParser(TOOLS)
    assert parser.feed("Let me check. [get_") == [TextOut("Let me check. ")]
    assert parser.feed("weather(city=") == []
    events = parser.feed('"Paris")] Done.')
    assert [type(e) for e in events] == [CallStart, CallArgs, CallEnd, TextOut]
    assert events[1].fragment == '{"city": "Paris"}' and events[-1] == TextOut(" Done.")
    assert parser.feed("See [the docs] or [print(x=1)] ok") == [
        TextOut("See [the docs] or [print(x=1)] ok")
    ]


def test_a_bracket_in_prose_is_not_held_without_tools() -> None:
    parser = StreamingParser(None)
    assert parser.feed("Try [f(x=1") == [TextOut("Try [f(x=1")]


def test_ordinary_json_is_released_after_its_first_key() -> None:
    parser = StreamingParser(TOOLS)
    assert parser.feed('{"answer": ') == [TextOut('{"answer": ')]


def test_braces_are_never_held_without_tools() -> None:
    parser = StreamingParser(None)
    assert parser.feed('{"name": "search"') == [TextOut('{"name": "search"')]


def test_think_and_fence_content_streams_without_waiting() -> None:
    parser = StreamingParser(TOOLS)
    assert texts(parser.feed("<think>hmm <tool_call>{")) == "<think>hmm <tool_call>{"
    assert texts(parser.feed("</thi")) == ""
    assert texts(parser.feed("nk>\n```\n<invoke name=")) == "</think>\n```\n<invoke name="


def test_no_call_event_before_the_call_is_complete() -> None:
    steps = char_by_char(CALL)
    assert not any(isinstance(e, CallStart) for step in steps[:-2] for e in step)
    assert [type(e) for e in steps[-2]] == [CallStart, CallArgs, CallEnd]


def test_a_call_without_its_closer_is_settled_at_finish() -> None:
    parser = StreamingParser(TOOLS)
    assert parser.feed('<tool_call>{"name": "search", "arguments": {}}') == []
    assert [type(e) for e in parser.finish()] == [CallStart, CallArgs, CallEnd]


def test_text_after_a_call_is_forwarded() -> None:
    parser = StreamingParser(TOOLS)
    events = parser.feed(CALL + " and more")
    assert [type(e) for e in events] == [CallStart, CallArgs, CallEnd, TextOut]
    assert events[-1] == TextOut(" and more")


def test_truncated_call_comes_back_as_text_at_finish() -> None:
    parser = StreamingParser(TOOLS)
    assert parser.feed(CALL[:30]) == []
    assert parser.finish() == [TextOut(CALL[:30])]


def test_disabled_parser_passes_everything_through() -> None:
    parser = StreamingParser(TOOLS, enabled=False)
    assert parser.feed(CALL) == [TextOut(CALL)]
    assert parser.finish() == []


def test_feed_after_finish_is_an_error() -> None:
    parser = StreamingParser(TOOLS)
    parser.finish()
    assert parser.finish() == []
    with pytest.raises(RuntimeError):
        parser.feed("x")


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.calls], ids=lambda s: s.id)
def test_call_events_have_the_openai_stream_shape(sample: Sample) -> None:
    events = [e for step in char_by_char(sample.text, sample.tools) for e in step]
    starts = [e for e in events if isinstance(e, CallStart)]
    assert [s.index for s in starts] == list(range(len(sample.calls)))
    assert [s.name for s in starts] == [name for name, _ in sample.calls]
    for start in starts:
        mine = [e for e in events if not isinstance(e, TextOut) and e.index == start.index]
        assert mine[0] == start and isinstance(mine[-1], CallEnd)
        assert sum(isinstance(e, CallStart) for e in mine) == 1
        fragments = "".join(e.fragment for e in mine if isinstance(e, CallArgs))
        assert fragments == mine[-1].arguments
        assert isinstance(json.loads(fragments), dict)


def test_long_argument_keeps_the_working_string_short() -> None:
    # The scan position moves on, so each append copies a short string: linear, not quadratic.
    body = '{"q": "' + 'ab\\"c ' * 20_000 + '"}'
    tape = Tape()
    scan = json_end(tape, 0)
    widest = 0
    result = None
    for char in body:
        tape.append(char)
        widest = max(widest, tape.working_length)
        try:
            next(scan)
        except StopIteration as stop:
            result = stop.value
    assert result == len(body)
    assert widest < 1_000
