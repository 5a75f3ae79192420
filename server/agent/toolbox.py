"""The enabled tools by name: arguments parsed and checked, the tool run, and every run logged.

Whatever goes wrong (unknown tool, arguments that are not JSON or break the schema, a refused
host, a tool that fails or crashes) becomes a `ToolRun` with a status and an error result: an
observation for the model, never an error of the HTTP request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from server.agent.redact import loggable_arguments
from server.agent.schema import ArgumentSchema, checked_schema
from server.agent.tooltypes import Tool, ToolFailed, ToolSpec
from server.facts import RequestFacts

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ToolRun:
    """One tool run: what was asked, what came back, how it went and how long it took."""

    tool: str
    arguments: Any  # the parsed object, or the text as the model wrote it when it was not JSON
    result: Any
    status: str  # ok | error | refused | invalid_arguments | unknown_tool
    ms: float

    @property
    def ok(self) -> bool:
        """True when the tool ran and answered."""
        return self.status == "ok"

    def as_json(self) -> dict[str, Any]:
        """The step as `/api/chat` reports it."""
        return {"tool": self.tool, "arguments": self.arguments, "result": self.result, "status": self.status, "ms": self.ms}

    def observation(self) -> str:
        """What the model reads back: the result as JSON (an error object when it failed)."""
        return self.result if isinstance(self.result, str) else json.dumps(self.result, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class BodyLogging:
    """LOG_REQUEST_BODY / LOG_RESPONSE_BODY, applied to tool arguments and results."""

    arguments: bool = False
    results: bool = False


class Toolbox:
    """The tools the agent offers, in order; tools whose schema is not valid JSON schema are left out."""

    def __init__(self, tools: Sequence[Tool], bodies: BodyLogging = BodyLogging()) -> None:
        self._tools: dict[str, tuple[Tool, ArgumentSchema]] = {}
        for tool in tools:
            schema = checked_schema(tool.spec.parameters)
            if schema is None:
                log.error("agent_tool_skipped", tool=tool.spec.name, reason="invalid JSON schema")
            elif tool.spec.name in self._tools:
                log.error("agent_tool_skipped", tool=tool.spec.name, reason="duplicate name")
            else:
                self._tools[tool.spec.name] = (tool, schema)
        self._bodies = bodies

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        """Every tool's spec, in order."""
        return tuple(tool.spec for tool, _ in self._tools.values())

    def function_tools(self) -> tuple[Mapping[str, Any], ...]:
        """The tools as chat-completions function tools."""
        return tuple(spec.as_function_tool() for spec in self.specs)

    async def run(self, name: str, arguments: str, facts: RequestFacts) -> ToolRun:
        """Run one call the model made; log it and add it to the request's facts."""
        started = time.monotonic()
        parsed, result, status = await self._run(name, arguments)
        run = ToolRun(name, parsed, result, status, round((time.monotonic() - started) * 1000, 1))
        record = self._record(run)
        facts.tool_runs.append(record)
        log.info("agent_tool_run", **record)
        return run

    async def _run(self, name: str, arguments: str) -> tuple[Any, Any, str]:
        entry = self._tools.get(name)
        if entry is None:
            known = ", ".join(self._tools) or "none"
            return arguments, {"error": f"there is no tool named {name!r}; the tools are: {known}"}, "unknown_tool"
        tool, schema = entry
        try:
            parsed = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            return arguments, {"error": f"the arguments are not valid JSON ({exc.msg}); send one JSON object"}, "invalid_arguments"
        problems = schema.problems(parsed)
        if problems:
            return parsed, {"error": "invalid arguments: " + "; ".join(problems)}, "invalid_arguments"
        try:
            return parsed, await tool.run(parsed), "ok"
        except ToolFailed as exc:
            return parsed, {"error": str(exc)}, exc.status
        except Exception:  # a broken tool is the model's observation, not the client's 500
            log.exception("agent_tool_crashed", tool=name)
            return parsed, {"error": "the tool failed with an internal error"}, "error"

    def _record(self, run: ToolRun) -> dict[str, Any]:
        record: dict[str, Any] = {
            "tool": run.tool,
            "arguments": loggable_arguments(run.arguments, bodies=self._bodies.arguments),
            "status": run.status,
            "duration_ms": run.ms,
        }
        if not run.ok:
            record["error"] = run.result.get("error") if isinstance(run.result, dict) else None
        elif self._bodies.results:
            record["result"] = run.result
        return record
