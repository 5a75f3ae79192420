"""Parse a Responses (`POST /v1/responses`) body into a frozen request, or raise a clear 400.

The request ends up in the same pieces the chat route uses: input items (read as messages by
`responses_items`), chat-shaped function tools, tool_choice, parallel_tool_calls, and the
generation parameters under their chat-completions names (`max_output_tokens` → `max_tokens`,
`text.format` → `response_format`, `reasoning.effort` → `reasoning_effort`, …), so one parameter
plan serves both APIs. `RESPONSES_NAMES` turns chat names back into the ones the client used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.protocol.errors import InvalidRequest
from server.protocol.responses_items import normalize_input
from server.protocol.responses_tools import ResponsesTools, parse_tool_choice, parse_tools

# Top-level parameters that mean the same in both APIs.
_SAME_NAME = ("temperature", "top_p", "top_logprobs", "service_tier", "prompt_cache_key", "safety_identifier")
# Chat name → Responses name, for reporting what a backend ignores in the client's words.
RESPONSES_NAMES: Mapping[str, str] = {
    "max_tokens": "max_output_tokens",
    "response_format": "text.format",
    "verbosity": "text.verbosity",
    "reasoning_effort": "reasoning.effort",
}
# Fields we act on, or accept and knowingly leave alone (`include` asks for extras we never have;
# `truncation` and `client_metadata` change nothing we do).
_HANDLED = frozenset({
    "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "stream", "store",
    "metadata", "previous_response_id", "max_output_tokens", "text", "reasoning", "include", "user",
    "stream_options", "truncation", "client_metadata", "max_tool_calls", *_SAME_NAME,
})
# Features that need OpenAI's own servers: refused rather than silently ignored.
_UNSUPPORTED = {
    "background": "background responses are not supported; send the request without 'background'",
    "conversation": "conversations are not supported; use 'previous_response_id' or send the whole input",
    "prompt": "stored prompt templates are not supported; send the instructions and input instead",
}


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    """A validated Responses request."""

    model: str | None
    input_items: tuple[dict[str, Any], ...]  # normal form (see responses_items), ids assigned
    instructions: str | None
    tools: ResponsesTools
    tool_choice: Any  # chat-shaped
    allowed_tools: tuple[Mapping[str, Any], ...]  # the chat-shaped tools the model may use
    raw_tool_choice: Any  # as the client sent it, echoed in the response
    parallel_tool_calls: bool
    stream: bool
    store: bool
    previous_response_id: str | None
    metadata: Mapping[str, str]
    params: Mapping[str, Any]  # OpenAI generation parameters under their chat names
    ignored: tuple[str, ...]  # Responses-only parameters no backend honours (client's names)
    echo: Mapping[str, Any]  # request fields the Response object repeats (temperature, text, …)
    unknown_fields: tuple[str, ...]


def parse_responses_request(body: Any) -> ResponsesRequest:
    """Validate the JSON body; raise InvalidRequest naming the bad parameter."""
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object", code="invalid_body")
    for key, message in _UNSUPPORTED.items():
        if body.get(key):
            raise InvalidRequest(message, code="unsupported_parameter", param=key)
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise InvalidRequest("'model' must be a non-empty string", code="invalid_model", param="model")
    previous = _optional_str(body, "previous_response_id")
    raw_input = body.get("input")
    if raw_input is None or raw_input == [] or raw_input == "":
        if previous is None:
            raise InvalidRequest("'input' is required", code="missing_input", param="input")
        raw_input = []
    instructions = _optional_str(body, "instructions")
    tools = parse_tools(body.get("tools"))
    tool_choice, allowed = parse_tool_choice(body.get("tool_choice"), tools)
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidRequest("'metadata' must be an object", param="metadata")
    params, echo = _params(body)
    max_tool_calls = body.get("max_tool_calls")
    return ResponsesRequest(
        model=model.strip() if isinstance(model, str) else None,
        input_items=normalize_input(raw_input),
        instructions=instructions,
        tools=tools,
        tool_choice=tool_choice,
        allowed_tools=allowed,
        raw_tool_choice=body.get("tool_choice") or "auto",
        parallel_tool_calls=_bool(body, "parallel_tool_calls", True),
        stream=_bool(body, "stream", False),
        store=_bool(body, "store", True),
        previous_response_id=previous,
        metadata=metadata or {},
        params=params,
        ignored=("max_tool_calls",) if max_tool_calls is not None else (),
        echo=echo,
        unknown_fields=tuple(sorted(k for k in body if k not in _HANDLED and k not in _UNSUPPORTED)),
    )


def _params(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The generation parameters under chat names, and what the Response object echoes."""
    params = {k: body[k] for k in _SAME_NAME if body.get(k) is not None}
    echo: dict[str, Any] = {"temperature": body.get("temperature", 1.0), "top_p": body.get("top_p", 1.0)}
    if body.get("max_output_tokens") is not None:
        params["max_tokens"] = body["max_output_tokens"]
    echo["max_output_tokens"] = body.get("max_output_tokens")
    text = _object(body, "text")
    fmt = text.get("format")
    if fmt is not None:
        if not isinstance(fmt, dict) or not isinstance(fmt.get("type"), str):
            raise InvalidRequest("'text.format' must be an object with a 'type'", param="text.format")
        if fmt["type"] != "text":  # plain text is the default: nothing to ask for
            params["response_format"] = _response_format(fmt)
    if text.get("verbosity") is not None:
        params["verbosity"] = text["verbosity"]
    echo["text"] = {"format": fmt or {"type": "text"}, **({"verbosity": text["verbosity"]} if "verbosity" in text else {})}
    reasoning = _object(body, "reasoning")
    if reasoning.get("effort") is not None:
        params["reasoning_effort"] = reasoning["effort"]
    echo["reasoning"] = {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")}
    echo["truncation"] = body.get("truncation") or "disabled"
    return params, echo


def _response_format(fmt: Mapping[str, Any]) -> dict[str, Any]:
    """Responses' flat `text.format` as chat's `response_format`."""
    if fmt["type"] == "json_schema":
        if not isinstance(fmt.get("schema"), dict):
            raise InvalidRequest("'text.format.schema' must be a JSON schema object", param="text.format.schema")
        spec = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        return {"type": "json_schema", "json_schema": spec}
    return {"type": fmt["type"]}


def _object(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"'{key}' must be an object", param=key)
    return value


def _optional_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"'{key}' must be a string", param=key)
    return value or None


def _bool(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidRequest(f"'{key}' must be a boolean", param=key)
    return value
