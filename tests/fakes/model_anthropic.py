"""The fake model server's Anthropic side: `POST /v1/messages` (SSE or JSON), for Claude Code.

With a `reasoning` directive the answer starts with a `thinking` block (`thinking_delta`s, then a
`signature_delta`), as Anthropic streams extended thinking; the text block follows at index 1.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import uuid
from typing import Any

from aiohttp import web

try:
    from tests.fakes.model_script import (
        INVALID_MODEL,
        Script,
        count_tokens,
        message_texts,
        prompt_chars,
        script_for,
    )
except ModuleNotFoundError:  # run as a script from tests/fakes
    from model_script import (  # type: ignore[no-redef]
        INVALID_MODEL,
        Script,
        count_tokens,
        message_texts,
        prompt_chars,
        script_for,
    )


def anthropic_error(status: int, message: str) -> web.Response:
    """An error in Anthropic's envelope, with its request id."""
    kinds = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
             404: "not_found_error", 429: "rate_limit_error", 529: "overloaded_error"}
    error = {"type": kinds.get(status, "api_error"), "message": message}
    request_id = f"req_{uuid.uuid4().hex[:24]}"
    return web.json_response({"type": "error", "error": error, "request_id": request_id},
                             status=status, headers={"request-id": request_id})


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _structured_reply(body: dict[str, Any]) -> str | None:
    """A JSON answer for structured-output side requests (Claude's session title), else None."""
    output_format = (body.get("output_config") or {}).get("format") or {}
    if output_format.get("type") != "json_schema":
        return None
    properties = (output_format.get("schema") or {}).get("properties") or {}
    return json.dumps({name: f"Fake {name}" for name in properties})


def _signature(thinking: str) -> str:
    # Opaque to the client; Anthropic's are base64 too.
    return base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()


async def messages(request: web.Request) -> web.StreamResponse:
    """Anthropic `POST /v1/messages`, streaming or not (the title side request included)."""
    body = await request.json()
    model = str(body.get("model", ""))
    side_reply = _structured_reply(body)
    if side_reply is not None:
        # Side requests ignore the directives so a scripted delay or error hits only the answer.
        script = Script(side_reply, [side_reply], 0.0, None, [])
    else:
        script = script_for(message_texts(body))
    if model == INVALID_MODEL:
        return anthropic_error(404, f"model: {model}")
    if script.status is not None:
        return anthropic_error(script.status, f"Fake error with status {script.status}.")
    thinking = "".join(script.reasoning)
    input_tokens = count_tokens("x" * prompt_chars(body))
    output_tokens = count_tokens(thinking + script.reply)
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens,
             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    message = {"id": f"msg_{uuid.uuid4().hex[:20]}", "type": "message", "role": "assistant",
               "model": model, "content": [], "stop_reason": None, "stop_sequence": None}
    if not body.get("stream"):
        content: list[dict[str, Any]] = []
        if thinking:
            content.append({"type": "thinking", "thinking": thinking, "signature": _signature(thinking)})
        content.append({"type": "text", "text": script.reply})
        return web.json_response({**message, "content": content, "stop_reason": "end_turn", "usage": usage})

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    start_usage = {**usage, "output_tokens": 1}
    await response.write(_event("message_start", {"type": "message_start",
                                                  "message": {**message, "usage": start_usage}}))
    index = 0
    if thinking:
        await _block(response, index, {"type": "thinking", "thinking": "", "signature": ""},
                     [{"type": "thinking_delta", "thinking": p} for p in script.reasoning]
                     + [{"type": "signature_delta", "signature": _signature(thinking)}], script.delay)
        index += 1
    await _block(response, index, {"type": "text", "text": ""},
                 [{"type": "text_delta", "text": p} for p in script.chunks], script.delay)
    await response.write(_event("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": output_tokens},
    }))
    await response.write(_event("message_stop", {"type": "message_stop"}))
    await response.write_eof()
    return response


async def _block(response: web.StreamResponse, index: int, start: dict[str, Any],
                 deltas: list[dict[str, Any]], delay: float) -> None:
    await response.write(_event("content_block_start",
                                {"type": "content_block_start", "index": index, "content_block": start}))
    if index == 0:
        await response.write(_event("ping", {"type": "ping"}))
    for delta in deltas:
        if delay:
            await asyncio.sleep(delay)
        await response.write(_event("content_block_delta",
                                    {"type": "content_block_delta", "index": index, "delta": delta}))
    await response.write(_event("content_block_stop", {"type": "content_block_stop", "index": index}))


async def count_message_tokens(request: web.Request) -> web.Response:
    """`POST /v1/messages/count_tokens`."""
    body = await request.json()
    return web.json_response({"input_tokens": count_tokens("x" * prompt_chars(body))})
