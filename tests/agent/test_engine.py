"""The agent loop over a backend with native tool calls (as an HTTP upstream makes them), turn by turn."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from executors import (
    BackendEvent,
    BackendRequest,
    CliFailed,
    Message,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from server.agent.engine import AgentRun, run_agent
from server.agent.events import AgentDone, AnswerText, StepDone, ToolCalled
from server.agent.function_calls import FunctionCalling
from server.agent.react import ReasonAct
from server.agent.time_tool import TimeNow
from server.agent.toolbox import Toolbox
from server.facts import RequestFacts
from server.pipeline.tool_protocol import DialectToolProtocol
from tests.server.pipeline.scripted_backend import ScriptedBackend

NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


def TurnBackend(turns: Sequence[Sequence[BackendEvent | Exception]]) -> ScriptedBackend:
    """A backend that answers its N-th request with `turns[N]` (the last one repeats)."""
    return ScriptedBackend(turns[0], later=turns[1:])


def build(messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]) -> BackendRequest:
    return BackendRequest("m", tuple(messages), tools=tuple(tools), tool_protocol=DialectToolProtocol("hermes"))


def native_call(index: int, call_id: str, arguments: dict[str, Any]) -> list[BackendEvent]:
    text = json.dumps(arguments)
    return [ToolCallDelta(index, text[:5], id=call_id, name="time_now"), ToolCallDelta(index, text[5:])]


async def run(backend: ScriptedBackend, *, react: bool = False, max_steps: int = 5) -> list[Any]:
    box = Toolbox([TimeNow(lambda: NOON)])
    dialogue = ReasonAct(build, box.specs) if react else FunctionCalling(build, box.function_tools())
    agent = AgentRun(backend, dialogue, box, max_steps)  # type: ignore[arg-type]
    return [e async for e in run_agent(agent, [Message("user", "What time is it?")], RequestFacts("r", "POST", "/api/chat"))]


async def test_native_calls_run_and_their_results_go_back_as_tool_messages() -> None:
    backend = TurnBackend([
        [*native_call(0, "call_a", {"timezone": "Asia/Seoul"}), UsageReport(100, 10)],
        [TextDelta("It is 21:00 "), TextDelta("in Seoul."), UsageReport(150, 5, cost_usd=0.01)],
    ])
    events = await run(backend)
    assert [type(e) for e in events] == [ToolCalled, StepDone, AnswerText, AnswerText, AgentDone]
    done = events[-1]
    assert (done.answer, done.finish_reason) == ("It is 21:00 in Seoul.", "stop")
    assert done.steps[0].run.result["time"] == "21:00:00"
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.cost_usd) == (250, 15, 0.01)
    first, second = backend.requests
    assert [t["function"]["name"] for t in first.tools] == ["time_now"] and first.messages[0].role == "system"
    assistant, result = second.messages[-2:]
    assert assistant.role == "assistant" and [(c.id, c.name) for c in assistant.tool_calls] == [("call_a", "time_now")]
    assert json.loads(assistant.tool_calls[0].arguments) == {"timezone": "Asia/Seoul"}
    assert (result.role, result.tool_call_id, result.name) == ("tool", "call_a", "time_now")
    assert json.loads(result.text)["utc_offset"] == "+09:00"
    assert backend.closed == 2


async def test_parallel_calls_all_run_within_the_limit_and_the_rest_stop_the_loop() -> None:
    two = [*native_call(0, "c1", {"timezone": "UTC"}), *native_call(1, "c2", {"timezone": "Asia/Tokyo"})]
    events = await run(TurnBackend([two, [TextDelta("Done.")]]))
    assert [s.run.result["timezone"] for s in events[-1].steps] == ["UTC", "Asia/Tokyo"]
    backend = TurnBackend([two, [TextDelta("Done.")]])
    limited = await run(backend, max_steps=1)
    done = limited[-1]
    assert (done.finish_reason, len(done.steps), done.answer) == ("max_steps", 1, "Done.")
    ran, not_run = backend.requests[1].messages[-2:]  # both calls answered, the second with why it did not run
    assert json.loads(ran.text)["timezone"] == "UTC"
    assert (not_run.tool_call_id, json.loads(not_run.text)["error"].split(":")[0]) == ("c2", "not run")


async def test_a_backend_failure_mid_loop_propagates_and_closes_the_turn() -> None:
    backend = TurnBackend([native_call(0, "c1", {}), [TextDelta("par"), CliFailed("turns", "the model went away")]])
    with pytest.raises(CliFailed, match="the model went away"):
        await run(backend)
    assert backend.closed == 2


async def test_reason_then_act_offers_no_function_tools_and_observes_as_the_user() -> None:
    backend = TurnBackend([
        [TextDelta('Thought: the clock.\nAction: time_now\nAction Input: {"timezone": "UTC"}')],
        [TextDelta("Thought: done.\nFinal "), TextDelta("Answer: noon")],
    ])
    events = await run(backend, react=True)
    assert events[-1].answer == "noon" and events[-1].steps[0].thought == "the clock."
    assert "".join(e.text for e in events if isinstance(e, AnswerText)) == "noon"
    first, second = backend.requests
    assert first.tools == () and "Action Input:" in first.messages[0].text
    assert [m.role for m in second.messages[-2:]] == ["assistant", "user"]
    assert second.messages[-1].text.startswith('Observation: {"timezone": "UTC"')
