"""`tool_choice: "required"` or a named function: the answer must be a call (to that function)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class ToolRequirement:
    """The answer must call a tool: any offered one, or only `name`."""

    name: str | None = None
    param: ClassVar[str] = "tool_choice"
    requires_call: ClassVar[bool] = True

    def admits(self, name: str) -> bool:
        """With a named function, calls to other tools do not reach the client."""
        return self.name is None or name == self.name

    def check_text(self, text: str) -> str:
        """Never reached: an answer without an admitted call is rejected before its text is checked."""
        return text

    def repair_prompt(self, problem: str) -> str:
        """A firmer instruction: call now, in the format the tool instructions give, and write nothing else."""
        which = f"the tool `{self.name}`" if self.name else "one of the tools"
        return (
            f"Your answer above cannot be used: {problem}. This answer must be a tool call. Call {which} now, "
            "written exactly in the format the tool instructions give, and write nothing else."
        )


def tool_requirement(tool_choice: Any, uses_tools: bool) -> ToolRequirement | None:
    """The requirement a chat-completions `tool_choice` makes, if any."""
    if not uses_tools:
        return None
    if tool_choice == "required":
        return ToolRequirement()
    if isinstance(tool_choice, Mapping):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if isinstance(name, str):
            return ToolRequirement(name)
    return None
