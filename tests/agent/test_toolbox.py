"""The toolbox: arguments checked against each tool's schema, failures as observations, runs logged."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from server.agent.time_tool import TimeNow
from server.agent.toolbox import BodyLogging, Toolbox
from server.agent.tooltypes import ToolFailed, ToolRefused, ToolSpec
from server.facts import RequestFacts

NOON = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Echo:
    """A tool that returns its arguments, or fails the way it is told to."""

    spec = ToolSpec(
        "echo",
        "Echo",
        {
            "type": "object",
            "properties": {"text": {"type": "string"}, "body": {"type": "string"}, "headers": {"type": "object"}, "fail": {"type": "string"}},
            "required": ["text"],
            "additionalProperties": False,
        },
    )

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        fail = arguments.get("fail")
        if fail == "refuse":
            raise ToolRefused("not that host")
        if fail == "error":
            raise ToolFailed("it broke")
        if fail == "crash":
            raise KeyError("bug")
        return {"echo": arguments["text"], "body": arguments.get("body")}


class BadSchema:
    spec = ToolSpec("bad", "A schema no validator accepts", {"type": "no-such-type"})

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        return None


def facts() -> RequestFacts:
    return RequestFacts("req_test", "POST", "/api/chat")


async def test_a_valid_call_runs_and_is_recorded() -> None:
    box, f = Toolbox([Echo()]), facts()
    run = await box.run("echo", '{"text": "hi"}', f)
    assert (run.status, run.result, run.arguments) == ("ok", {"echo": "hi", "body": None}, {"text": "hi"})
    assert run.ms >= 0 and run.observation() == '{"echo": "hi", "body": null}'
    assert f.tool_runs == [{"tool": "echo", "arguments": {"text": "hi"}, "status": "ok", "duration_ms": run.ms}]


@pytest.mark.parametrize(
    ("name", "arguments", "status", "error"),
    [
        ("nope", "{}", "unknown_tool", "there is no tool named 'nope'; the tools are: echo"),
        ("echo", '{"text": ', "invalid_arguments", "the arguments are not valid JSON"),
        ("echo", "[1, 2]", "invalid_arguments", "invalid arguments: arguments: [1, 2] is not of type 'object'"),
        ("echo", "{}", "invalid_arguments", "invalid arguments: arguments: 'text' is a required property"),
        ("echo", '{"text": 5}', "invalid_arguments", "invalid arguments: arguments.text: 5 is not of type 'string'"),
        ("echo", '{"text": "a", "x": 1}', "invalid_arguments", "Additional properties are not allowed ('x' was unexpected)"),
        ("echo", '{"text": "a", "fail": "refuse"}', "refused", "not that host"),
        ("echo", '{"text": "a", "fail": "error"}', "error", "it broke"),
        ("echo", '{"text": "a", "fail": "crash"}', "error", "the tool failed with an internal error"),
    ],
)
async def test_every_failure_is_an_observation_with_a_status(name: str, arguments: str, status: str, error: str) -> None:
    f = facts()
    run = await Toolbox([Echo()]).run(name, arguments, f)
    assert run.status == status
    assert error in run.result["error"]
    assert json.loads(run.observation()) == run.result
    assert f.tool_runs[0]["status"] == status and error in f.tool_runs[0]["error"]


async def test_empty_arguments_mean_an_empty_object() -> None:
    run = await Toolbox([TimeNow(lambda: NOON)]).run("time_now", "", facts())
    assert run.status == "ok" and run.result["timezone"] == "UTC"


async def test_logs_hold_no_credentials_and_bodies_only_when_body_logging_is_on() -> None:
    arguments = json.dumps({"text": "hi", "body": "secret payload", "headers": {"Authorization": "Bearer abc", "X-Ok": "1"}})
    with capture_logs() as logs:
        quiet = facts()
        await Toolbox([Echo()]).run("echo", arguments, quiet)
        loud = facts()
        await Toolbox([Echo()], BodyLogging(arguments=True, results=True)).run("echo", arguments, loud)
    runs = [entry for entry in logs if entry["event"] == "agent_tool_run"]
    assert len(runs) == 2
    assert runs[0]["arguments"] == {"text": "hi", "body": "[14 characters not logged]", "headers": {"Authorization": "[redacted]", "X-Ok": "1"}}
    assert "result" not in runs[0]
    assert runs[1]["arguments"]["body"] == "secret payload"
    assert runs[1]["arguments"]["headers"]["Authorization"] == "[redacted]"
    assert runs[1]["result"] == {"echo": "hi", "body": "secret payload"}
    assert quiet.tool_runs[0]["arguments"]["body"] == "[14 characters not logged]"
    assert loud.tool_runs[0]["result"]["body"] == "secret payload"


def test_tools_with_invalid_schemas_or_duplicate_names_are_left_out() -> None:
    with capture_logs() as logs:
        box = Toolbox([Echo(), BadSchema(), Echo()])
    assert [s.name for s in box.specs] == ["echo"]
    assert [(e["tool"], e["reason"]) for e in logs] == [("bad", "invalid JSON schema"), ("echo", "duplicate name")]
    assert box.function_tools()[0]["function"]["name"] == "echo"


async def test_time_now_in_a_zone() -> None:
    result = await TimeNow(lambda: NOON).run({"timezone": "Asia/Seoul"})
    assert result == {
        "timezone": "Asia/Seoul",
        "iso": "2026-03-01T21:00:00+09:00",
        "date": "2026-03-01",
        "time": "21:00:00",
        "weekday": "Sunday",
        "utc_offset": "+09:00",
        "abbreviation": "KST",
        "unix": int(NOON.timestamp()),
    }
    paris = await TimeNow(lambda: datetime(2026, 7, 1, 12, tzinfo=UTC)).run({"timezone": "Europe/Paris"})
    assert (paris["time"], paris["utc_offset"], paris["abbreviation"]) == ("14:00:00", "+02:00", "CEST")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Asia", "bad\x00zone"])
async def test_time_now_refuses_unknown_zones(zone: str) -> None:
    with pytest.raises(ToolFailed, match="unknown time zone"):
        await TimeNow().run({"timezone": zone})
