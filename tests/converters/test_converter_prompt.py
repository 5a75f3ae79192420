"""The prompt side: tool instructions, earlier calls in the transcript, and dialect choice."""

from __future__ import annotations

import json

import pytest
from converter_samples import CONFIG, SEARCH, TOOLS, WEATHER

from server.converters import (
    DIALECTS,
    dialect_for_model,
    parse,
    render_tool_call,
    render_tool_instructions,
)

ARGUMENTS = {"city": "Zürich", "days": 3, "zip": "020", "unit": "c"}
ODD_ARGUMENTS = {
    "flag": False,
    "ratio": 2.5,
    "opts": {"a": [1, None]},
    "tags": ["x", "y"],
    "note": "a\nb </x>",
}


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_a_rendered_call_parses_back_to_the_same_call(dialect: str) -> None:
    for tool, arguments in ((WEATHER, ARGUMENTS), (CONFIG, ODD_ARGUMENTS), (SEARCH, {})):
        name = tool["function"]["name"]
        text = render_tool_call(name, json.dumps(arguments), dialect)
        (call,) = parse(f"Sure.\n{text}", TOOLS).calls
        assert (call.name, json.loads(call.arguments)) == (name, arguments), text


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_instructions_list_the_tools_and_show_a_call_in_the_dialect(dialect: str) -> None:
    text = render_tool_instructions(TOOLS, dialect=dialect)
    for tool in TOOLS:
        assert f"## {tool['function']['name']}" in text
        assert json.dumps(tool["function"]["parameters"]) in text
    example = parse(text.split("(here calling `get_weather`):\n\n", 1)[1], TOOLS).calls
    assert [c.name for c in example] == ["get_weather"]
    assert "stop and write nothing more" in text and "next turn" in text


def test_instructions_honour_parallel_tool_calls() -> None:
    assert "several tools in one answer" in render_tool_instructions(TOOLS, dialect="hermes")
    single = render_tool_instructions(TOOLS, dialect="hermes", parallel_tool_calls=False)
    assert "at most one tool per answer" in single


@pytest.mark.parametrize(
    ("choice", "wording"),
    [
        ("auto", "otherwise answer directly"),
        ("none", "Do not call any tool"),
        ("required", "must call at least one tool"),
        ({"type": "function", "function": {"name": "search"}}, "must call the tool `search`"),
    ],
)
def test_instructions_honour_tool_choice(choice: object, wording: str) -> None:
    assert wording in render_tool_instructions(TOOLS, tool_choice=choice, dialect="claude_xml")


def test_a_forced_tool_is_the_example() -> None:
    choice = {"type": "function", "function": {"name": "search"}}
    assert "(here calling `search`)" in render_tool_instructions(
        TOOLS, tool_choice=choice, dialect="hermes"
    )


@pytest.mark.parametrize(
    "choice", [{"type": "function", "function": {"name": "nope"}}, "sometimes", 3]
)
def test_bad_tool_choice_is_an_error(choice: object) -> None:
    with pytest.raises(ValueError):
        render_tool_instructions(TOOLS, tool_choice=choice, dialect="hermes")


def test_unknown_dialect_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        render_tool_instructions(TOOLS, dialect="nope")
    with pytest.raises(ValueError, match="'nope'"):
        render_tool_call("search", "{}", "nope")


def test_render_tool_call_accepts_empty_arguments_and_rejects_non_objects() -> None:
    assert parse(render_tool_call("search", "", "hermes"), TOOLS).calls[0].arguments == "{}"
    with pytest.raises(ValueError):
        render_tool_call("search", "[1]", "hermes")
    with pytest.raises(ValueError):
        render_tool_call("search", "{oops", "hermes")


@pytest.mark.parametrize(
    ("model", "dialect"),
    [
        ("claude-sonnet-4.5", "claude_xml"),
        ("sonnet", "hermes"),
        ("anthropic/claude-3-opus", "claude_xml"),
        ("us.anthropic.claude-3", "claude_xml"),
        ("gpt-5.4", "hermes"),
        ("Claude-Opus", "claude_xml"),
    ],
)
def test_default_dialects_by_model_family(model: str, dialect: str) -> None:
    assert dialect_for_model(model) == dialect


def test_overrides_by_prefix_or_pattern_most_specific_wins() -> None:
    overrides = {
        "gpt": "harmony",
        "gpt-5*": "json",
        "gpt-5.4-mini": "pythonic",
        "sonnet": "claude_xml",
    }
    assert dialect_for_model("gpt-4o", overrides) == "harmony"
    assert dialect_for_model("gpt-5.1", overrides) == "json"
    assert dialect_for_model("gpt-5.4-mini", overrides) == "pythonic"
    assert dialect_for_model("sonnet", overrides) == "claude_xml"
    assert dialect_for_model("claude-x", overrides) == "claude_xml"


def test_override_to_an_unknown_dialect_is_an_error() -> None:
    with pytest.raises(ValueError, match="'xml'"):
        dialect_for_model("gpt-5", {"gpt": "xml"})


def test_a_backends_default_applies_only_where_the_family_has_none() -> None:
    assert dialect_for_model("claude/sonnet", default="claude_xml") == "claude_xml"
    assert dialect_for_model("upstream/qwen3", default="qwen3coder") == "qwen3coder"
    assert dialect_for_model("copilot/claude-sonnet-4.6", default="hermes") == "claude_xml"
    assert dialect_for_model("claude/sonnet", {"sonnet": "hermes"}, default="claude_xml") == "hermes"
