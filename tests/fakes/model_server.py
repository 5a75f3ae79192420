"""A local fake model server that the real copilot and claude CLIs can be pointed at.

It speaks two wire formats with scripted replies:
- OpenAI chat completions (`POST /v1/chat/completions`, SSE or JSON) for Copilot BYOK;
- Anthropic Messages (`POST /v1/messages`, SSE or JSON; `?beta=true` is ignored) for Claude.

The reply is picked by directives found in the request's messages (system or user):
`[[fake:reply=TEXT]]`, `[[fake:reply_file=/abs/path]]`, `[[fake:chunks=N]]`, `[[fake:delay=S]]`
and `[[fake:status=CODE]]`; the last occurrence of each wins. Every request is recorded and can be
read back with `GET /_fake/requests` (`DELETE` clears the record).

Run it alone with `python tests/fakes/model_server.py --port 18080`, or in tests with
`async with running_model_server() as base_url: ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

DEFAULT_REPLY = "Hello from mock."
DEFAULT_CHUNKS = 3
INVALID_MODEL = "invalid-model"
DIRECTIVE_RE = re.compile(r"\[\[fake:(\w+)=(.*?)\]\]", re.DOTALL)

RecordedRequests = list[dict[str, Any]]
REQUESTS_KEY = web.AppKey("requests", RecordedRequests)

OPENAI_MODELS = ["gpt-4.1", "gpt-5-mini", "claude-sonnet-4.6"]
ANTHROPIC_MODELS = ["claude-sonnet-5", "claude-opus-4-8", "claude-haiku-4-5-20251001"]


# ---------------------------------------------------------------------------- reply script


@dataclass(frozen=True, slots=True)
class Script:
    """What to answer to one request."""

    reply: str
    chunks: list[str]
    delay: float
    status: int | None


def split_chunks(text: str, n: int) -> list[str]:
    """Split text into n pieces, at word starts when there are enough words, else by characters."""
    if not text:
        return []
    n = max(1, min(n, len(text)))
    words = re.findall(r"\s*\S+|\s+$", text)
    pieces = words if n <= len(words) else list(text)
    return ["".join(pieces[i * len(pieces) // n : (i + 1) * len(pieces) // n]) for i in range(n)]


def count_tokens(text: str) -> int:
    """The fakes' token estimate: a quarter of the characters, at least 1."""
    return max(1, len(text) // 4)


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (where directives may hide), depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)


def find_directives(texts: list[str]) -> dict[str, str]:
    """All `[[fake:key=value]]` directives in the texts; a later one overrides an earlier one.

    `reply` and `reply_file` are one setting: the later of the two wins, as in the fake CLIs.
    """
    found: dict[str, str] = {}
    for text in texts:
        for key, value in DIRECTIVE_RE.findall(text):
            if key in ("reply", "reply_file"):
                found.pop("reply", None)
                found.pop("reply_file", None)
            found[key] = value
    return found


def script_for(texts: list[str]) -> Script:
    """Build the reply script from the directives in a request's message texts."""
    directives = find_directives(texts)
    if "reply_file" in directives:
        reply = Path(directives["reply_file"]).read_text(encoding="utf-8")
    else:
        reply = directives.get("reply", DEFAULT_REPLY)
    n = int(directives.get("chunks", DEFAULT_CHUNKS))
    status = int(directives["status"]) if "status" in directives else None
    return Script(reply, split_chunks(reply, n), float(directives.get("delay", 0)), status)


def message_texts(body: dict[str, Any]) -> list[str]:
    """The strings of a request's system prompt and messages, in order."""
    return list(strings_in(body.get("system"))) + list(strings_in(body.get("messages")))


def _prompt_chars(body: dict[str, Any]) -> int:
    return sum(len(s) for s in message_texts(body))


# ---------------------------------------------------------------------------- recording


@web.middleware
async def record_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    """Keep every request (except the recorder's own) so a test can inspect what the CLI sent."""
    if not request.path.startswith("/_fake/"):
        raw = await request.text() if request.can_read_body else ""
        try:
            body: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw
        request.app[REQUESTS_KEY].append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query_string,
                "headers": dict(request.headers),
                "body": body,
            }
        )
    result: web.StreamResponse = await handler(request)
    return result


async def list_requests(request: web.Request) -> web.Response:
    return web.json_response(request.app[REQUESTS_KEY])


async def clear_requests(request: web.Request) -> web.Response:
    request.app[REQUESTS_KEY].clear()
    return web.json_response({"cleared": True})


# ---------------------------------------------------------------------------- OpenAI side


def _openai_error(status: int, message: str, code: str | None) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    error = {"message": message, "type": kind, "param": None, "code": code}
    return web.json_response({"error": error}, status=status)


def _sse(data: dict[str, Any] | str) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """OpenAI `POST /v1/chat/completions`, streaming or not."""
    body = await request.json()
    model = str(body.get("model", ""))
    script = script_for(message_texts(body))
    if model == INVALID_MODEL:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return _openai_error(404, message, "model_not_found")
    if script.status is not None:
        return _openai_error(script.status, f"Fake error with status {script.status}.", None)
    usage = {
        "prompt_tokens": count_tokens("x" * _prompt_chars(body)),
        "completion_tokens": count_tokens(script.reply),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
    }
    if not body.get("stream"):
        message = {"role": "assistant", "content": script.reply, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        return web.json_response(
            {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        )

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**base, "object": "chat.completion.chunk", "choices": [choice]}

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(_sse(chunk({"role": "assistant", "content": ""}, None)))
    for piece in script.chunks:
        if script.delay:
            await asyncio.sleep(script.delay)
        await response.write(_sse(chunk({"content": piece}, None)))
    await response.write(_sse({**chunk({}, "stop"), "usage": None}))
    if (body.get("stream_options") or {}).get("include_usage"):
        await response.write(
            _sse({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        )
    await response.write(_sse("[DONE]"))
    await response.write_eof()
    return response


# ---------------------------------------------------------------------------- Anthropic side


def _anthropic_error(status: int, message: str) -> web.Response:
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


async def messages(request: web.Request) -> web.StreamResponse:
    """Anthropic `POST /v1/messages`, streaming or not (the title side request included)."""
    body = await request.json()
    model = str(body.get("model", ""))
    side_reply = _structured_reply(body)
    if side_reply is not None:
        # Side requests ignore the directives so a scripted delay or error hits only the answer.
        script = Script(side_reply, [side_reply], 0.0, None)
    else:
        script = script_for(message_texts(body))
    if model == INVALID_MODEL:
        return _anthropic_error(404, f"model: {model}")
    if script.status is not None:
        return _anthropic_error(script.status, f"Fake error with status {script.status}.")
    input_tokens = count_tokens("x" * _prompt_chars(body))
    output_tokens = count_tokens(script.reply)
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens,
             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    message = {"id": f"msg_{uuid.uuid4().hex[:20]}", "type": "message", "role": "assistant",
               "model": model, "content": [], "stop_reason": None, "stop_sequence": None}
    if not body.get("stream"):
        content = [{"type": "text", "text": script.reply}]
        return web.json_response({**message, "content": content, "stop_reason": "end_turn",
                                  "usage": usage})

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    start_usage = {**usage, "output_tokens": 1}
    await response.write(_event("message_start", {"type": "message_start",
                                                  "message": {**message, "usage": start_usage}}))
    block_start = {"type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}}
    await response.write(_event("content_block_start", block_start))
    await response.write(_event("ping", {"type": "ping"}))
    for piece in script.chunks:
        if script.delay:
            await asyncio.sleep(script.delay)
        delta = {"type": "text_delta", "text": piece}
        await response.write(_event("content_block_delta",
                                    {"type": "content_block_delta", "index": 0, "delta": delta}))
    await response.write(_event("content_block_stop", {"type": "content_block_stop", "index": 0}))
    await response.write(_event("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": output_tokens},
    }))
    await response.write(_event("message_stop", {"type": "message_stop"}))
    await response.write_eof()
    return response


async def count_message_tokens(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"input_tokens": count_tokens("x" * _prompt_chars(body))})


# ---------------------------------------------------------------------------- shared routes


async def list_models(request: web.Request) -> web.Response:
    """`GET /v1/models` in the Anthropic shape when the caller is Anthropic's SDK, else OpenAI's."""
    if "anthropic-version" in request.headers:
        data = [{"type": "model", "id": m, "display_name": m, "created_at": "2026-01-01T00:00:00Z"}
                for m in ANTHROPIC_MODELS]
        return web.json_response({"data": data, "has_more": False,
                                  "first_id": data[0]["id"], "last_id": data[-1]["id"]})
    data = [{"id": m, "object": "model", "created": 1767225600, "owned_by": "fake"}
            for m in OPENAI_MODELS]
    return web.json_response({"object": "list", "data": data})


async def root(request: web.Request) -> web.Response:
    return web.Response(text="fake model server\n")


async def not_found(request: web.Request) -> web.Response:
    # Anything else a CLI probes gets a quick, well-formed 404 rather than a hang.
    return _openai_error(404, f"Unknown path {request.path}", "not_found")


def create_app() -> web.Application:
    """The fake model server as an aiohttp application."""
    app = web.Application(middlewares=[record_requests], client_max_size=64 * 1024 * 1024)
    app[REQUESTS_KEY] = []
    app.router.add_get("/", root)  # also answers HEAD
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/chat/completions", chat_completions)
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/messages/count_tokens", count_message_tokens)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/models", list_models)
    app.router.add_get("/_fake/requests", list_requests)
    app.router.add_delete("/_fake/requests", clear_requests)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


@contextlib.asynccontextmanager
async def running_model_server(host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve the fake model on host:port (0 = a free port) and yield its base URL, no trailing /."""
    runner = web.AppRunner(create_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        bound_port = runner.addresses[0][1]  # the real port when 0 was asked for
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()
    web.run_app(create_app(), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
