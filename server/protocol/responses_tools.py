"""Responses tools: flat function tools and namespaces become chat-shaped function tools.

Responses writes a function tool flat (`{"type": "function", "name", "parameters", …}`); the
backends take the chat shape (`{"type": "function", "function": {…}}`). A `namespace` tool
(Codex sends one) groups functions; each becomes a tool named `<namespace>__<name>`, and a call
to it goes back to the client with its `namespace` and plain `name`. Hosted tools (web search,
file search, code interpreter, …) run on OpenAI's servers, which the bridge has not: they are
skipped and reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from server.protocol.errors import InvalidRequest

NAMESPACE_SEPARATOR = "__"


@dataclass(frozen=True, slots=True)
class ToolNames:
    """Maps the names the model sees back to the client's (namespace, name)."""

    namespaced: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @staticmethod
    def chat_name(name: str, namespace: str | None) -> str:
        """The name the model sees for a client's function."""
        return f"{namespace}{NAMESPACE_SEPARATOR}{name}" if namespace else name

    def client_name(self, chat_name: str) -> tuple[str | None, str]:
        """The (namespace, name) a call to `chat_name` goes back with."""
        return self.namespaced.get(chat_name, (None, chat_name))


@dataclass(frozen=True, slots=True)
class ResponsesTools:
    """The chat-shaped tools, the name map, the echo for the response, and what was skipped."""

    tools: tuple[Mapping[str, Any], ...]
    names: ToolNames
    echo: tuple[Mapping[str, Any], ...]  # the request's tools, as the Response object lists them
    skipped: tuple[str, ...]  # types of hosted tools the bridge cannot run


def parse_tools(raw: Any) -> ResponsesTools:
    """Validate `tools`; raise InvalidRequest naming the bad element."""
    if raw is None:
        return ResponsesTools((), ToolNames(), (), ())
    if not isinstance(raw, list):
        raise InvalidRequest("'tools' must be an array", param="tools")
    tools: list[Mapping[str, Any]] = []
    echo: list[Mapping[str, Any]] = []
    skipped: list[str] = []
    namespaced: dict[str, tuple[str, str]] = {}
    for i, tool in enumerate(raw):
        param = f"tools[{i}]"
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise InvalidRequest(f"{param} must be an object with a 'type'", param=param)
        if tool["type"] == "function":
            tools.append(_function(tool, param, None))
            echo.append(_echo_function(tool))
        elif tool["type"] == "namespace":
            namespace = tool.get("name")
            functions = tool.get("tools")
            if not isinstance(namespace, str) or not namespace or not isinstance(functions, list):
                raise InvalidRequest(f"{param}: a namespace needs a 'name' and a 'tools' array", param=param)
            for j, inner in enumerate(functions):
                if not isinstance(inner, dict) or inner.get("type", "function") != "function":
                    raise InvalidRequest(f"{param}.tools[{j}] must be a function tool", param=f"{param}.tools[{j}]")
                chat = _function(inner, f"{param}.tools[{j}]", namespace)
                namespaced[chat["function"]["name"]] = (namespace, inner["name"])
                tools.append(chat)
            echo.append(tool)
        else:
            skipped.append(tool["type"])
            echo.append(tool)
    names = [t["function"]["name"] for t in tools]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise InvalidRequest(f"two tools are named {duplicate!r}", param="tools")
    return ResponsesTools(tuple(tools), ToolNames(namespaced), tuple(echo), tuple(skipped))


def _function(tool: Mapping[str, Any], param: str, namespace: str | None) -> dict[str, Any]:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"{param}.name is required", param=f"{param}.name")
    parameters = tool.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidRequest(f"{param}.parameters must be a JSON schema object", param=f"{param}.parameters")
    function: dict[str, Any] = {"name": ToolNames.chat_name(name, namespace)}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    if parameters is not None:
        function["parameters"] = parameters
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _echo_function(tool: Mapping[str, Any]) -> dict[str, Any]:
    # The Response object's FunctionTool always has `parameters` and `strict` (null when unset).
    return {"parameters": None, "strict": None, **tool}


def parse_tool_choice(raw: Any, tools: ResponsesTools) -> tuple[Any, tuple[Mapping[str, Any], ...]]:
    """The chat-shaped tool_choice, and the tools the model may use under it.

    `allowed_tools` narrows the tools to the ones it lists (its mode is auto or required).
    """
    if raw is None or raw in ("auto", "none", "required"):
        return raw or "auto", tools.tools
    if not isinstance(raw, dict):
        raise InvalidRequest("tool_choice must be 'auto', 'none', 'required' or an object", param="tool_choice")
    kind = raw.get("type")
    known = {t["function"]["name"] for t in tools.tools}
    if kind == "function":
        name = ToolNames.chat_name(str(raw.get("name")), raw.get("namespace") if isinstance(raw.get("namespace"), str) else None)
        if name not in known:
            raise InvalidRequest(f"tool_choice names a function that is not in tools: {raw.get('name')!r}", param="tool_choice")
        return {"type": "function", "function": {"name": name}}, tools.tools
    if kind == "allowed_tools":
        mode = raw.get("mode", "auto")
        listed = raw.get("tools")
        if mode not in ("auto", "required") or not isinstance(listed, list):
            raise InvalidRequest("tool_choice.allowed_tools needs a mode (auto or required) and a tools array", param="tool_choice")
        wanted = {
            ToolNames.chat_name(str(t.get("name")), t.get("namespace") if isinstance(t.get("namespace"), str) else None)
            for t in listed if isinstance(t, dict) and t.get("type", "function") == "function"
        }
        return mode, tuple(t for t in tools.tools if t["function"]["name"] in wanted)
    raise InvalidRequest(f"tool_choice type {kind!r} is not supported: only function tools run here", param="tool_choice")
