"""Reading reason-then-act turns, and streaming only what follows `Final Answer:`."""

from __future__ import annotations

import json
import random

import pytest

from server.agent.react import ReasonAct, react_prompt
from server.agent.react_text import parse_react
from server.agent.time_tool import SPEC as TIME_SPEC
from server.converters import TextOut


def test_an_action_with_json_input() -> None:
    turn = parse_react('Thought: I need the time.\nAction: time_now\nAction Input: {"timezone": "Asia/Seoul"}')
    assert (turn.thought, turn.action, json.loads(turn.action_input)) == ("I need the time.", "time_now", {"timezone": "Asia/Seoul"})
    assert turn.kept.endswith('{"timezone": "Asia/Seoul"}')


def test_what_the_model_imagines_after_its_action_is_dropped() -> None:
    text = 'Thought: check\nAction: http_request\nAction Input: {"url": "http://x/"}\nObservation: 200 OK\nThought: done\nFinal Answer: up'
    turn = parse_react(text)
    assert turn.action == "http_request" and turn.answer == ""
    assert "Observation" not in turn.kept and "Final Answer" not in turn.kept


def test_fenced_and_multiline_inputs_and_decorated_names() -> None:
    turn = parse_react('Action: `time_now`\nAction Input:\n```json\n{\n  "timezone": "UTC"\n}\n```\nObservation: x')
    assert turn.action == "time_now" and json.loads(turn.action_input) == {"timezone": "UTC"}
    assert turn.kept.endswith("```") and "Observation" not in turn.kept


def test_input_that_is_not_json_is_passed_on_for_the_schema_check_to_reject() -> None:
    assert parse_react("Action: time_now\nAction Input: Asia/Seoul please").action_input == "Asia/Seoul please"
    assert parse_react('Action: time_now\nAction Input: {"timezone": ').action_input == '{"timezone":'
    assert parse_react("Action: time_now").action_input == "{}"


def test_answers_with_and_without_the_format() -> None:
    assert parse_react("Thought: easy.\nFinal Answer: 42").answer == "42"
    assert parse_react("Thought: easy. Final Answer: 42 is it").answer == "42 is it"
    assert parse_react("Just 42.").answer == "Just 42."
    assert parse_react("Thought: 42 it is.").answer == "42 it is."
    first = parse_react("Final Answer: done.\nAction: time_now\nAction Input: {}")
    assert first.action is None and first.answer.startswith("done.")


def test_the_prompt_describes_every_tool_and_the_format() -> None:
    prompt = react_prompt([TIME_SPEC])
    assert "time_now: The current date and time" in prompt
    assert json.dumps(TIME_SPEC.parameters) in prompt
    for label in ("Thought:", "Action: the name of one tool (time_now)", "Action Input:", "Observation:", "Final Answer:"):
        assert label in prompt


ANSWER_TURN = "Thought: I know it.\nFinal Answer: It is 21:00 in Seoul."


@pytest.mark.parametrize("seed", range(20))
def test_the_answer_streams_as_it_arrives_whatever_the_chunking(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(ANSWER_TURN)), rng.randint(1, 12)))
    pieces = [ANSWER_TURN[a:b] for a, b in zip([0, *cuts], [*cuts, len(ANSWER_TURN)], strict=True)]
    reader = ReasonAct(lambda m, t: None, ()).reader()  # type: ignore[arg-type, return-value]
    streamed = "".join(reader.feed(TextOut(p)) for p in pieces)
    assert streamed == "It is 21:00 in Seoul."
    assert reader.finish().answer == "It is 21:00 in Seoul."


def test_an_action_turn_streams_nothing() -> None:
    reader = ReasonAct(lambda m, t: None, ()).reader()  # type: ignore[arg-type, return-value]
    text = 'Thought: x\nAction: time_now\nAction Input: {}\nObservation: y\nFinal Answer: made up'
    assert "".join(reader.feed(TextOut(c)) for c in text) == ""
    turn = reader.finish()
    assert [c.name for c in turn.calls] == ["time_now"] and turn.answer == ""
