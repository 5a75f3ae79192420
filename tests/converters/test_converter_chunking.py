"""Every chunking of an input gives the same result as the whole-text parse."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from converter_samples import SAMPLES, Sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.converters import ConverterEvent, ParseResult, StreamingParser, fold_events, parse
from server.converters.registry import default_table

# Every registered marker, plus the closers and separators that decide where a block ends.
MARKERS = (
    *default_table().anywhere,
    *default_table().line,
    "</tool_call>",
    "</invoke>",
    "</parameter>",
    "<arg_value>",
    "</think>",
    "<|message|>",
    "<|tool_call_begin|>",
    "<｜tool▁call▁end｜>",
)


def stream(text: str, cuts: list[int], tools: list[dict] | None) -> list[ConverterEvent]:
    """Feed `text` split at the given offsets, then finish."""
    parser = StreamingParser(tools)
    events: list[ConverterEvent] = []
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(text)}), len(text)]
    for a, b in pairwise(bounds):
        events += parser.feed(text[a:b])
    return events + parser.finish()


def key(result: ParseResult) -> tuple[object, ...]:
    """A parse result without the (random) ids."""
    return result.content, [(c.name, c.arguments, c.problems) for c in result.calls]


def assert_same(sample: Sample, cuts: list[int]) -> None:
    """Streamed with these cuts, the sample folds to exactly what parse() returns."""
    expected = key(parse(sample.text, sample.tools))
    assert key(fold_events(stream(sample.text, cuts, sample.tools))) == expected, cuts


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_one_character_at_a_time(sample: Sample) -> None:
    assert_same(sample, list(range(len(sample.text))))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_split_once_at_every_offset(sample: Sample) -> None:
    for cut in range(1, len(sample.text)):
        assert_same(sample, [cut])


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_every_marker_split_at_every_offset(sample: Sample) -> None:
    for marker in MARKERS:
        start = sample.text.find(marker)
        while start >= 0:
            for offset in range(1, len(marker)):
                assert_same(sample, [start + offset])
                assert_same(sample, [start, start + offset, start + len(marker)])
            start = sample.text.find(marker, start + 1)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_seeded_random_splits(sample: Sample) -> None:
    rnd = random.Random(sample.id)
    for _ in range(40):
        size = rnd.randint(1, 12)
        assert_same(sample, [i for i in range(len(sample.text)) if rnd.random() < 1 / size])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_chunkings_of_any_sample(data: st.DataObject) -> None:
    sample = data.draw(st.sampled_from(SAMPLES), label="sample")
    cuts = data.draw(
        st.lists(st.integers(1, max(1, len(sample.text) - 1)), max_size=30), label="cuts"
    )
    assert_same(sample, cuts)


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(
        st.sampled_from(
            [s.text for s in SAMPLES] + ["\n", " ", "text ", "<", "[", "{", "`", "```\n"]
        ),
        max_size=5,
    ),
    cuts=st.lists(st.integers(1, 2000), max_size=20),
)
def test_random_concatenations_stream_like_they_parse(pieces: list[str], cuts: list[int]) -> None:
    text = "".join(pieces)
    assert_same(Sample("concat", text, None), cuts)


FRAGMENTS = [
    "<tool_call>",
    "</tool_call>",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    '"',
    "'",
    ":",
    ",",
    ";",
    "=",
    ">",
    "<",
    "\n",
    " ",
    "```",
    "```json\n",
    "~~~",
    "<think>",
    "</think>",
    '"name"',
    '"arguments"',
    '"search"',
    '"q"',
    "1",
    "020",
    "x",
    "search",
    "q=",
    "get_weather(",
    "<function=",
    "<parameter=",
    "</parameter>",
    "</function>",
    "<function_calls>",
    "</function_calls>",
    "<invoke",
    ' name="search"',
    "<parameter",
    ' name="q"',
    "</invoke>",
    "<arg_key>",
    "</arg_key>",
    "<arg_value>",
    "</arg_value>",
    "[TOOL_CALLS]",
    "[ARGS]",
    "<|python_tag|>",
    "<|python_start|>",
    "<|python_end|>",
    "<|start|>",
    "<|channel|>",
    "<|message|>",
    "<|call|>",
    "<|end|>",
    "to=functions.search",
    "analysis",
    "<｜tool▁calls▁begin｜>",
    "<｜tool▁call▁begin｜>",
    "<｜tool▁sep｜>",
    "<｜tool▁call▁end｜>",
    "<|tool_calls_section_begin|>",
    "<|tool_call_begin|>",
    "functions.search:0",
    "<|tool_call_argument_begin|>",
    "<|tool_call_end|>",
    "\\",
    "<seed:tool_call>",
    "</seed:tool_call>",
    "<minimax:tool_call>",
    "</minimax:tool_call>",
    "<|python_tag|>",
]


@settings(max_examples=1500, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(FRAGMENTS), max_size=40),
    cuts=st.lists(st.integers(1, 400), max_size=25),
    with_tools=st.booleans(),
)
def test_fuzzed_markup_soup_streams_like_it_parses(
    pieces: list[str], cuts: list[int], with_tools: bool
) -> None:
    text = "".join(pieces)
    sample = Sample("soup", text, None) if with_tools else Sample("soup", text, None, tools=None)
    assert_same(sample, cuts)
    assert_same(sample, list(range(len(text))))
