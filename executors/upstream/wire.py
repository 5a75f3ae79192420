"""The chat-completions body sent upstream, in the shape the server accepts (see `Shape`).

Images go as OpenAI `image_url` content parts (data URLs) after the message's text part.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from executors.request import BackendRequest, ImagePart, Message, ToolProtocol

ToolsMode = Literal["native", "functions", "prompt"]
HistoryMode = Literal["native", "text"]
MAX_TOKENS_KEYS = ("max_completion_tokens", "max_tokens")
EMPTY = "(empty)"  # what an empty content becomes for a server that refuses empty contents


@dataclass(frozen=True, slots=True)
class Shape:
    """How a request is written for one server: tools natively, as legacy `functions` or in the
    system prompt; history natively or as plain text; `max_tokens` clamped to `cap`."""

    tools: ToolsMode = "native"
    history: HistoryMode = "native"
    cap: int | None = None


def chat_body(request: BackendRequest, shape: Shape, max_tokens_field: str) -> dict[str, Any]:
    """The streaming chat request for this shape (usage asked for, parameters passed through)."""
    body: dict[str, Any] = {"model": request.model}
    messages = _text_history(request) if shape.history == "text" else [_native(m) for m in request.messages]
    body["messages"] = messages
    if request.tools:
        _add_tools(body, request, shape.tools)
    params = dict(request.params)
    asked = asked_max_tokens(params)
    for key in MAX_TOKENS_KEYS:
        params.pop(key, None)
    if asked is not None:
        params[max_tokens_field] = min(asked, shape.cap) if shape.cap else asked
    body.update(params)
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    return body


def asked_max_tokens(params: Mapping[str, Any]) -> int | None:
    """The completion-token limit the client set (either name), if any."""
    for key in MAX_TOKENS_KEYS:
        value = params.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def has_tool_history(request: BackendRequest) -> bool:
    """True when the conversation holds what picky chat templates refuse: tool turns or empty contents."""
    return any(
        m.role in ("tool", "function") or m.tool_calls or not (m.text.strip() or m.images) for m in request.messages
    )


def _add_tools(body: dict[str, Any], request: BackendRequest, mode: ToolsMode) -> None:
    choice = request.tool_choice
    if mode == "native":
        body["tools"] = [dict(t) for t in request.tools]
        if choice != "auto":  # auto is every server's default once tools are given
            body["tool_choice"] = choice
        if not request.parallel_tool_calls:
            body["parallel_tool_calls"] = False
    elif mode == "functions":
        body["functions"] = [dict(t["function"]) for t in request.tools]
        if choice == "none":
            body["function_call"] = "none"
        elif isinstance(choice, Mapping):
            body["function_call"] = {"name": choice["function"]["name"]}
    elif request.uses_tools and request.tool_protocol is not None:
        instructions = request.tool_protocol.instructions(
            request.tools, tool_choice=choice, parallel_tool_calls=request.parallel_tool_calls
        )
        _add_to_system_prompt(body["messages"], instructions)


def _add_to_system_prompt(messages: list[dict[str, Any]], text: str) -> None:
    if messages and messages[0]["role"] == "system":
        messages[0] = {**messages[0], "content": f"{messages[0]['content']}\n\n{text}".strip()}
    else:
        messages.insert(0, {"role": "system", "content": text})


def _call_id(record_id: str, name: str) -> str:
    # Legacy function_call turns carry no id; their results are matched by name.
    return record_id or f"call_{name}"


def _native(message: Message) -> dict[str, Any]:
    """One message as OpenAI clients send it."""
    if message.role in ("system", "developer"):
        return {"role": "system", "content": message.text}  # few local chat templates know `developer`
    out: dict[str, Any]
    if message.role in ("tool", "function"):
        out = {"role": "tool", "tool_call_id": message.tool_call_id or _call_id("", message.name or ""),
               "content": message.text}
        return {**out, "name": message.name} if message.name else out
    out = {"role": message.role, "content": with_images(message.text, message.images)}
    if message.name:
        out["name"] = message.name
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": _call_id(c.id, c.name), "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
        if not message.text:
            del out["content"]  # OpenAI allows it; llama-cpp-python refuses `content: null`
    return out


def _text_history(request: BackendRequest) -> list[dict[str, Any]]:
    """Tool results as user text and earlier calls as assistant text in the model's markup, empty
    contents filled, and neighbouring turns of one role joined (templates want them alternating)."""
    names = {c.id: c.name for m in request.messages for c in m.tool_calls if c.id}
    out: list[dict[str, Any]] = []
    for message in request.messages:
        role, text = _as_text(message, request.tool_protocol, names)
        if out and out[-1]["role"] == role and role in ("user", "assistant"):
            out[-1]["content"] = f"{out[-1]['content']}\n\n{text}"
            out[-1]["images"] += message.images
        else:
            out.append({"role": role, "content": text, "images": message.images})
    return [{"role": m["role"], "content": with_images(m["content"], m["images"])} for m in out]


def with_images(text: str, images: tuple[ImagePart, ...]) -> str | list[dict[str, Any]]:
    """A message's content: its text, or a text part and image parts when it has images."""
    if not images:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    for image in images:
        url: dict[str, Any] = {"url": image.url or image.data_url()}
        if image.detail:
            url["detail"] = image.detail
        parts.append({"type": "image_url", "image_url": url})
    return parts


def _as_text(message: Message, protocol: ToolProtocol | None, names: Mapping[str, str]) -> tuple[str, str]:
    if message.role in ("tool", "function"):
        name = message.name or names.get(message.tool_call_id or "", "")
        label = " ".join(p for p in (name, f"(call id {message.tool_call_id})" if message.tool_call_id else "") if p)
        return "user", f"[Tool result{': ' + label if label else ''}]\n{message.text.strip() or EMPTY}"
    if message.role in ("system", "developer"):
        return "system", message.text.strip() or EMPTY
    parts = [message.text] if message.text.strip() else []
    parts += [_render_call(c.name, c.arguments, protocol) for c in message.tool_calls]
    return message.role, "\n".join(parts) or ("" if message.images else EMPTY)


def _render_call(name: str, arguments: str, protocol: ToolProtocol | None) -> str:
    if protocol is None:
        try:
            decoded: object = json.loads(arguments)
        except ValueError:  # a model's malformed arguments are shown as it wrote them
            decoded = arguments
        return json.dumps({"name": name, "arguments": decoded}, ensure_ascii=False)
    return protocol.render_call(name, arguments)
