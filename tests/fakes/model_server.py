"""A local fake model server that the real copilot and claude CLIs can be pointed at.

It speaks two wire formats with scripted replies:
- OpenAI chat completions (`POST /v1/chat/completions`, SSE or JSON) for Copilot BYOK;
- Anthropic Messages (`POST /v1/messages`, SSE or JSON; `?beta=true` is ignored) for Claude.

The reply is picked by directives found in the request's messages (system or user):
`[[fake:reply=TEXT]]`, `[[fake:reply_file=/abs/path]]`, `[[fake:chunks=N]]`, `[[fake:delay=S]]`,
`[[fake:status=CODE]]`, `[[fake:reasoning=TEXT]]` (thinking before the answer) and
`[[fake:reasoning_field=NAME]]` (the OpenAI delta field for it); the last occurrence of each wins
(`model_script.py`). Every request is recorded and can be
read back with `GET /_fake/requests` (`DELETE` clears the record).

Run it alone with `python tests/fakes/model_server.py --port 18080`, or in tests with
`async with running_model_server() as base_url: ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

try:  # imported as tests.fakes.model_server
    from tests.fakes.model_anthropic import count_message_tokens, messages
    from tests.fakes.model_script import (
        DEFAULT_CHUNKS,
        DEFAULT_REPLY,
        DIRECTIVE_RE,
        INVALID_MODEL,
        Script,
        count_tokens,
        find_directives,
        image_parts,
        message_texts,
        prompt_chars,
        script_for,
        split_chunks,
        strings_in,
    )
except ModuleNotFoundError:  # run as a script, or imported from tests/fakes
    from model_anthropic import count_message_tokens, messages  # type: ignore[no-redef]
    from model_script import (  # type: ignore[no-redef]
        DEFAULT_CHUNKS,
        DEFAULT_REPLY,
        DIRECTIVE_RE,
        INVALID_MODEL,
        Script,
        count_tokens,
        find_directives,
        image_parts,
        message_texts,
        prompt_chars,
        script_for,
        split_chunks,
        strings_in,
    )

__all__ = [  # the script helpers are re-exported: the fake upstream and tests import them from here
    "DEFAULT_CHUNKS", "DEFAULT_REPLY", "DIRECTIVE_RE", "INVALID_MODEL", "REQUESTS_KEY", "Script",
    "clear_requests", "count_tokens", "create_app", "find_directives", "image_parts", "list_requests",
    "message_texts", "record_requests", "running_model_server", "script_for", "split_chunks", "strings_in",
]

RecordedRequests = list[dict[str, Any]]
REQUESTS_KEY = web.AppKey("requests", RecordedRequests)

OPENAI_MODELS = ["gpt-4.1", "gpt-5-mini", "claude-sonnet-4.6"]
ANTHROPIC_MODELS = ["claude-sonnet-5", "claude-opus-4-8", "claude-haiku-4-5-20251001"]


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
        "prompt_tokens": count_tokens("x" * prompt_chars(body)),
        "completion_tokens": count_tokens("".join(script.reasoning) + script.reply),
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
        if script.reasoning:
            message[script.reasoning_field] = "".join(script.reasoning)
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
    for piece in script.reasoning:
        if script.delay:
            await asyncio.sleep(script.delay)
        await response.write(_sse(chunk({"content": None, script.reasoning_field: piece}, None)))
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
