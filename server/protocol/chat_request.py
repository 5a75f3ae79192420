"""Parse a chat-completions body into a frozen request, or raise a clear 400."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from executors import Message
from server.protocol.errors import InvalidRequest
from server.protocol.messages import parse_messages
from server.protocol.params import OPENAI_PARAMS

# Fields we act on.
_HANDLED = frozenset({
    "model", "messages", "stream", "stream_options", "tools", "tool_choice",
    "parallel_tool_calls", "functions", "function_call", "user", "metadata", "store",
})


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated chat-completions request."""

    model: str | None
    messages: tuple[Message, ...]
    stream: bool
    include_usage: bool
    tools: tuple[Mapping[str, Any], ...]
    tool_choice: Any
    parallel_tool_calls: bool
    legacy_functions: bool
    params: Mapping[str, Any]  # the OpenAI generation parameters the client set (see protocol.params)
    unknown_fields: tuple[str, ...]


def parse_chat_request(body: Any) -> ChatRequest:
    """Validate the JSON body; raise InvalidRequest naming the bad parameter."""
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", code="invalid_body")
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise InvalidRequest("'model' must be a non-empty string", code="invalid_model", param="model")
    stream = _bool(body, "stream", False)
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise InvalidRequest("'stream_options' must be an object", param="stream_options")
    tools, tool_choice, legacy = _tools(body)
    return ChatRequest(
        model=model.strip() if isinstance(model, str) else None,
        messages=parse_messages(body.get("messages")),
        stream=stream,
        include_usage=stream and bool((options or {}).get("include_usage")),
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=_bool(body, "parallel_tool_calls", True),
        legacy_functions=legacy,
        params={k: body[k] for k in body if k in OPENAI_PARAMS and body[k] is not None},
        unknown_fields=tuple(sorted(k for k in body if k not in _HANDLED and k not in OPENAI_PARAMS)),
    )


def _bool(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidRequest(f"'{key}' must be a boolean", param=key)
    return value


def _tools(body: Mapping[str, Any]) -> tuple[tuple[Mapping[str, Any], ...], Any, bool]:
    """Tools and tool_choice, with legacy `functions`/`function_call` turned into their modern form."""
    tools = body.get("tools")
    choice = body.get("tool_choice")
    legacy = False
    if tools is None and body.get("functions") is not None:
        functions = body["functions"]
        if not isinstance(functions, list):
            raise InvalidRequest("'functions' must be an array", param="functions")
        tools = [{"type": "function", "function": f} for f in functions]
        legacy = True
        fc = body.get("function_call")
        choice = {"type": "function", "function": {"name": fc["name"]}} if isinstance(fc, dict) and "name" in fc else fc
    if tools is None:
        return (), None, False
    if not isinstance(tools, list):
        raise InvalidRequest("'tools' must be an array", param="tools")
    checked = tuple(_tool(t, i, "functions" if legacy else "tools") for i, t in enumerate(tools))
    names = {t["function"]["name"] for t in checked}
    return checked, _tool_choice(choice, names), legacy


def _tool(tool: Any, index: int, field: str) -> Mapping[str, Any]:
    param = f"{field}[{index}]"
    if not isinstance(tool, dict) or tool.get("type", "function") != "function":
        raise InvalidRequest(f"{param} must be a function tool", param=param)
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
        raise InvalidRequest(f"{param}.function.name is required", param=f"{param}.function.name")
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidRequest(f"{param}.function.parameters must be a JSON schema object", param=f"{param}.function.parameters")
    return {"type": "function", "function": function}


def _tool_choice(choice: Any, names: set[str]) -> Any:
    if choice is None or choice in ("auto", "none", "required"):
        return choice or "auto"
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") if choice.get("type", "function") == "function" else None
        if isinstance(name, str) and name in names:
            return {"type": "function", "function": {"name": name}}
        raise InvalidRequest(f"tool_choice names a function that is not in tools: {name!r}", param="tool_choice")
    raise InvalidRequest("tool_choice must be 'auto', 'none', 'required' or a named function", param="tool_choice")
