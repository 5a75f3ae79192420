"""Whole-text parsing of every dialect and every correctness rule, from the shared samples."""

from __future__ import annotations

import json
import re

import pytest
from converter_samples import SAMPLES, TOOLS, Sample

from server.converters import parse


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_sample_parses_as_expected(sample: Sample) -> None:
    result = parse(sample.text, sample.tools)
    assert result.content == sample.content
    assert [(c.name, json.loads(c.arguments)) for c in result.calls] == sample.calls


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_ids_are_openai_style_and_unique(sample: Sample) -> None:
    calls = parse(sample.text, sample.tools).calls
    assert all(re.fullmatch(r"call_[A-Za-z0-9]{24}", c.id) for c in calls)
    assert len({c.id for c in calls}) == len(calls)


def test_arguments_keep_non_ascii() -> None:
    text = '<tool_call>{"name": "search", "arguments": {"q": "日本語 café"}}</tool_call>'
    assert parse(text, TOOLS).calls[0].arguments == '{"q": "日本語 café"}'


def test_schema_problems_are_reported_without_dropping_the_call() -> None:
    text = '<tool_call>{"name": "get_weather", "arguments": {"days": "three", "unit": "k"}}</tool_call>'
    (call,) = parse(text, TOOLS).calls
    assert call.problems == (
        "missing required property 'city'",
        "property 'days' should be integer",
        'property \'unit\' should be one of "c", "f"',
    )


def test_xml_values_that_do_not_fit_the_schema_stay_text_and_are_reported() -> None:
    text = '<invoke name="get_weather"><parameter name="city">Oslo</parameter><parameter name="days">soon</parameter></invoke>'
    (call,) = parse(text, TOOLS).calls
    assert json.loads(call.arguments) == {"city": "Oslo", "days": "soon"}
    assert call.problems == ("property 'days' should be integer",)


def test_disabled_conversion_passes_text_through() -> None:
    text = '<tool_call>{"name": "search", "arguments": {}}</tool_call>'
    result = parse(text, TOOLS, enabled=False)
    assert result.content == text
    assert result.calls == ()


def test_plain_text_without_calls_is_unchanged() -> None:
    text = "  Hello,\n\nworld!  "
    assert parse(text, TOOLS).content == text
    assert parse("", TOOLS).content == ""
