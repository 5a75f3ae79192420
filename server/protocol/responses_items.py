"""Responses input items: validated into a normal form (kept by the store), then read as messages.

The normal form is what `GET /v1/responses/{id}/input_items` lists: every item has a `type` and
an `id`; messages have content-part lists. Reading items as messages:
- `message` (or a bare `{role, content}`): a message of that role (user, assistant, system,
  developer); text parts are joined, refusals read as text; a user message's `input_image`
  parts are its images.
- `function_call`: a tool call of the assistant message just before it (or of a new one);
  a namespaced call gets the name the model saw (`<namespace>__<name>`).
- `function_call_output`: a tool message for its `call_id`, also when no call in the input has
  that id; list outputs keep their text parts, other parts become a short placeholder.
- anything else (reasoning, web_search_call, custom_tool_call, compaction, …): skipped and
  counted, never an error; Codex sends back every item it ever got.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from executors import ImagePart, Message, ToolCallRecord
from server.protocol.errors import InvalidRequest
from server.protocol.images import responses_image
from server.protocol.messages import call_arguments
from server.protocol.responses_tools import ToolNames

MESSAGE_ROLES = frozenset({"user", "assistant", "system", "developer"})
_TEXT_PARTS = frozenset({"input_text", "output_text", "text"})
_ID_PREFIXES = {"message": "msg", "function_call": "fc", "function_call_output": "fco"}


def new_item_id(kind: str) -> str:
    """A fresh id for an item of this type (`msg_…`, `fc_…`, …)."""
    return f"{_ID_PREFIXES.get(kind, 'item')}_{secrets.token_hex(12)}"


def normalize_input(raw: Any) -> tuple[dict[str, Any], ...]:
    """`input` as a string or an item list, validated into the normal form."""
    if isinstance(raw, str):
        return (_message({"role": "user", "content": raw}, "input"),)
    if not isinstance(raw, list):
        raise InvalidRequest("'input' must be a string or an array of items", param="input")
    return tuple(_item(item, f"input[{i}]") for i, item in enumerate(raw))


def _item(raw: Any, param: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{param} must be an object", param=param)
    kind = raw.get("type") or ("message" if "role" in raw else None)
    if not isinstance(kind, str):
        raise InvalidRequest(f"{param} needs a 'type' (or a 'role' for a message)", param=f"{param}.type")
    if kind == "message":
        return _message(raw, param)
    if kind == "function_call":
        _require_str(raw, "call_id", param)
        _require_str(raw, "name", param)
        arguments = call_arguments(raw.get("arguments"), f"{param}.arguments")
        return {"status": "completed", **raw, "type": kind, "id": _id(raw, kind), "arguments": arguments}
    if kind == "function_call_output":
        _require_str(raw, "call_id", param)
        output = raw.get("output")
        if not isinstance(output, (str, list)):
            raise InvalidRequest(f"{param}.output must be a string or an array of content parts", param=f"{param}.output")
        return {"status": "completed", **raw, "type": kind, "id": _id(raw, kind)}
    return {**raw, "id": _id(raw, kind)}  # kept as sent; read as nothing (see items_to_messages)


def _message(raw: Mapping[str, Any], param: str) -> dict[str, Any]:
    role = raw.get("role")
    if role not in MESSAGE_ROLES:
        raise InvalidRequest(f"{param}.role must be one of {', '.join(sorted(MESSAGE_ROLES))}", param=f"{param}.role")
    content = raw.get("content")
    part_type = "output_text" if role == "assistant" else "input_text"
    if isinstance(content, str):
        part: dict[str, Any] = {"type": part_type, "text": content}
        if role == "assistant":
            part.update(annotations=[], logprobs=[])
        parts = [part]
    elif isinstance(content, list):
        parts = [_part(p, f"{param}.content[{j}]", role) for j, p in enumerate(content)]
    else:
        raise InvalidRequest(f"{param}.content must be a string or an array of content parts", param=f"{param}.content")
    return {"status": "completed", **raw, "type": "message", "id": _id(raw, "message"), "role": role, "content": parts}


def _part(raw: Any, param: str, role: str) -> dict[str, Any]:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind in _TEXT_PARTS and isinstance(raw.get("text"), str):
        return dict(raw)
    if kind == "refusal" and isinstance(raw.get("refusal"), str):
        return dict(raw)
    if kind == "input_image" and role == "user":
        responses_image(raw, param)  # checked now; read again with the conversation
        return {"detail": "auto", **raw}
    only = "text and input_image parts are" if role == "user" else "only text parts are"
    raise InvalidRequest(
        f"{param}: content part type {kind!r} is not supported in a {role} message; {only}",
        code="unsupported_content_type",
        param=f"{param}.type",
    )


def _require_str(raw: Mapping[str, Any], key: str, param: str) -> None:
    if not isinstance(raw.get(key), str) or not raw[key]:
        raise InvalidRequest(f"{param}.{key} is required", param=f"{param}.{key}")


def _id(raw: Mapping[str, Any], kind: str) -> str:
    given = raw.get("id")
    return given if isinstance(given, str) and given else new_item_id(kind)


def items_to_messages(
    items: Iterable[Mapping[str, Any]], instructions: str | None, names: ToolNames, *, context_items: int = 0
) -> tuple[tuple[Message, ...], Counter[str]]:
    """The conversation as messages (instructions first), and the item types that were skipped.

    The first `context_items` come from a stored response (`previous_response_id`), the rest from
    this request's `input` (so an image's origin names the right place).
    """
    messages: list[Message] = [Message("system", instructions)] if instructions else []
    skipped: Counter[str] = Counter()
    call_names: dict[str, str] = {}
    attach = False  # the last message is an assistant turn that later calls belong to
    for index, item in enumerate(items):
        kind = item.get("type")
        if kind == "message":
            where = f"input[{index - context_items}]" if index >= context_items else "previous_response_id"
            images = _images(item["content"], where)
            messages.append(Message(str(item["role"]), _text(item["content"]), images=images))
            attach = item["role"] == "assistant"
        elif kind == "function_call":
            namespace = item.get("namespace") if isinstance(item.get("namespace"), str) else None
            record = ToolCallRecord(item["call_id"], names.chat_name(item["name"], namespace), item["arguments"])
            call_names[record.id] = record.name
            if attach:
                messages[-1] = dataclasses.replace(messages[-1], tool_calls=(*messages[-1].tool_calls, record))
            else:
                messages.append(Message("assistant", "", tool_calls=(record,)))
                attach = True
        elif kind == "function_call_output":
            call_id = item["call_id"]
            messages.append(Message("tool", _output_text(item["output"]), name=call_names.get(call_id), tool_call_id=call_id))
            attach = False
        else:
            skipped[str(kind)] += 1  # reasoning between a message and its calls keeps them together
    return tuple(messages), skipped


def _text(parts: Iterable[Mapping[str, Any]]) -> str:
    texts = (p.get("refusal") if p.get("type") == "refusal" else p.get("text") for p in parts
             if p.get("type") != "input_image")
    return "\n".join(str(t) for t in texts)


def _images(parts: Iterable[Mapping[str, Any]], param: str) -> tuple[ImagePart, ...]:
    return tuple(responses_image(dict(p), f"{param}.content[{j}]") for j, p in enumerate(parts)
                 if p.get("type") == "input_image")


def _output_text(output: str | list[Any]) -> str:
    if isinstance(output, str):
        return output
    pieces = []
    for part in output:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        else:
            pieces.append(f"[{kind or 'unknown'} content not shown]")  # a tool's image must not fail the turn
    return "\n".join(pieces)
