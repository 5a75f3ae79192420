"""Chat messages: validation of the `messages` array into the backends' frozen message records.

Text parts are joined into the message's text; `image_url` parts of user messages become its
images (`protocol.images`), which follow the text.
"""

from __future__ import annotations

import json
from typing import Any

from executors import ImagePart, Message, ToolCallRecord
from server.protocol.errors import InvalidRequest
from server.protocol.images import chat_image

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})


def parse_messages(raw: Any, field: str = "messages") -> tuple[Message, ...]:
    """Validate `messages` (or another field of chat messages); raise InvalidRequest naming the offending element."""
    if raw is None or (isinstance(raw, list) and not raw):
        raise InvalidRequest(f"'{field}' is required and must not be empty", code="missing_messages", param=field)
    if not isinstance(raw, list):
        raise InvalidRequest(f"'{field}' must be an array", code="missing_messages", param=field)
    return tuple(_message(m, f"{field}[{i}]") for i, m in enumerate(raw))


def _message(raw: Any, param: str) -> Message:
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{param} must be an object", param=param)
    role = raw.get("role")
    if role not in ROLES:
        raise InvalidRequest(f"{param}.role must be one of {', '.join(sorted(ROLES))}", param=f"{param}.role")
    tool_calls = _tool_calls(raw, param) if role == "assistant" else ()
    content = raw.get("content")
    if content is None and not tool_calls and role not in ("assistant", "tool", "function"):
        raise InvalidRequest(f"{param}.content is required", param=f"{param}.content")
    if role == "assistant" and isinstance(raw.get("function_call"), dict):
        fc = raw["function_call"]
        tool_calls = (ToolCallRecord("", str(fc.get("name", "")), call_arguments(fc.get("arguments"), f"{param}.function_call.arguments")),)
    tool_call_id = raw.get("tool_call_id")
    if role == "tool" and not isinstance(tool_call_id, str):
        raise InvalidRequest(f"{param}.tool_call_id is required for tool messages", param=f"{param}.tool_call_id")
    name = raw.get("name")
    text, images = _content(content, f"{param}.content", role)
    return Message(
        role=role,
        text=text,
        name=name if isinstance(name, str) else None,
        tool_calls=tool_calls,
        tool_call_id=tool_call_id if isinstance(tool_call_id, str) else None,
        images=images,
    )


def _content(content: Any, param: str, role: str) -> tuple[str, tuple[ImagePart, ...]]:
    """Flatten string or content-part content to text, and take a user message's images apart."""
    if content is None:
        return "", ()
    if isinstance(content, str):
        return content, ()
    if not isinstance(content, list):
        raise InvalidRequest(f"{param} must be a string or an array of content parts", param=param)
    pieces = []
    images = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            pieces.append(part["refusal"])
        elif kind == "image_url" and role == "user":
            images.append(chat_image(part, f"{param}[{j}]"))
        elif role in ("tool", "function") and isinstance(kind, str):
            pieces.append(f"[{kind} content not shown]")  # a tool's non-text output must not fail the turn
        else:
            only = "text and image_url parts are" if role == "user" else "only text parts are"
            raise InvalidRequest(
                f"{param}[{j}]: content part type {kind!r} is not supported in a {role} message; {only}",
                code="unsupported_content_type",
                param=f"{param}[{j}].type",
            )
    return "\n".join(pieces), tuple(images)


def _tool_calls(raw: dict[str, Any], param: str) -> tuple[ToolCallRecord, ...]:
    calls = raw.get("tool_calls")
    if calls is None:
        return ()
    if not isinstance(calls, list):
        raise InvalidRequest(f"{param}.tool_calls must be an array", param=f"{param}.tool_calls")
    records = []
    for k, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise InvalidRequest(f"{param}.tool_calls[{k}].function.name is required", param=f"{param}.tool_calls[{k}]")
        arguments = call_arguments(function.get("arguments"), f"{param}.tool_calls[{k}].function.arguments")
        records.append(ToolCallRecord(str(call.get("id") or ""), function["name"], arguments))
    return tuple(records)


def call_arguments(value: Any, param: str) -> str:
    """Earlier call arguments as JSON object text (they are replayed to the model in its markup)."""
    if value is None or value == "":
        return "{}"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    if not isinstance(decoded, dict):
        raise InvalidRequest(f"{param} must be a JSON object (as a string)", param=param)
    return text
