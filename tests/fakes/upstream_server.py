"""A fake OpenAI-compatible model server that answers like LM Studio, Ollama, vLLM or llama.cpp.

`create_app(personality, **switches)` picks whose wire format to speak (`lmstudio`, `ollama`,
`vllm`, `llamacpp` for llama.cpp's `llama-server`, `llama_cpp_python`) and which of that server's
quirks to switch on (see `UpstreamConfig`). Per request, `[[fake:key=value]]` directives in the
messages (or the completion prompt, or the embedding input) script the answer: the model server's
`reply`, `reply_file`, `chunks`, `delay`, `status`, plus `reasoning`, `tool_call`, `tool_style`,
`args_object`, `finish`, `fail`, `after`, `first_byte` and `ping` (tests/fakes/README.md has the table),
and `replies_file` for a conversation of several turns (`upstream_script`).
Every request is recorded: `GET /_fake/requests`, `DELETE` clears.

Run alone: `python -m tests.fakes.upstream_server --personality ollama --port 11434`; in tests:
`async with running_upstream_server("vllm", max_model_len=4096) as base_url:` (base_url ends in /v1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web

from tests.fakes import upstream_errors as errors
from tests.fakes.model_server import (
    REQUESTS_KEY,
    clear_requests,
    count_tokens,
    find_directives,
    list_requests,
    message_texts,
    record_requests,
    strings_in,
)
from tests.fakes.upstream_chat import (
    chat_chunks,
    chat_completion,
    embeddings,
    text_chunks,
    text_completion,
)
from tests.fakes.upstream_plan import (
    Refused,
    UpstreamConfig,
    check_chat,
    check_limit,
    plan_for,
    require_known_model,
)
from tests.fakes.upstream_send import RELEASE_KEY, dumps, send_stream, send_whole
from tests.fakes.upstream_shapes import (
    PERSONALITIES,
    Embeddings,
    EmptyContent,
    Json,
    Personality,
    ReasoningField,
    models_body,
    profile_for,
)

CONFIG_KEY = web.AppKey("upstream_config", UpstreamConfig)


def create_app(personality: Personality = "vllm", *, models: Sequence[str] | None = None,
               reasoning_field: ReasoningField | None = None, check_model: bool | None = None,
               usage_chunk: bool | None = None, empty_content: EmptyContent | None = None,
               embeddings_mode: Embeddings | None = None, **switches: Any) -> web.Application:
    """The fake upstream as an aiohttp app; keyword switches are `UpstreamConfig` fields.

    The first group of keywords overrides the personality's own habits (`Profile`).
    """
    profile = profile_for(personality)
    overrides: dict[str, Any] = {
        "reasoning_field": reasoning_field, "check_model": check_model, "usage_chunk": usage_chunk,
        "empty_content": empty_content, "embeddings": embeddings_mode,
    }
    profile = replace(profile, **{k: v for k, v in overrides.items() if v is not None})
    config = UpstreamConfig(profile=profile, models=tuple(models or profile.models), **switches)
    app = web.Application(middlewares=[record_requests, record_outcome, check_api_key],
                          client_max_size=64 * 1024 * 1024)
    app[REQUESTS_KEY] = []
    app[CONFIG_KEY] = config
    app[RELEASE_KEY] = asyncio.Event()
    app.on_shutdown.append(_release_hangs)
    app.router.add_get("/v1/models", list_models)
    app.router.add_post("/v1/chat/completions", chat_route)
    app.router.add_post("/v1/completions", completions_route)
    app.router.add_post("/v1/embeddings", embeddings_route)
    app.router.add_get("/_fake/requests", list_requests)
    app.router.add_delete("/_fake/requests", clear_requests)
    return app


async def _release_hangs(app: web.Application) -> None:
    # A hung handler would hold the runner's shutdown for its whole timeout; let it go at once.
    app[RELEASE_KEY].set()


@web.middleware
async def record_outcome(request: web.Request, handler: Any) -> web.StreamResponse:
    """Add `outcome` to the request's record: `completed`, or `cancelled` when the client left first."""
    if request.path.startswith("/_fake/"):
        return await handler(request)  # type: ignore[no-any-return]
    # record_requests appended this request's record and called us without awaiting in between.
    record = request.app[REQUESTS_KEY][-1]
    record["outcome"] = "running"
    try:
        result: web.StreamResponse = await handler(request)
    except asyncio.CancelledError:
        record["outcome"] = "cancelled"
        raise
    record["outcome"] = "completed"
    return result


@web.middleware
async def check_api_key(request: web.Request, handler: Any) -> web.StreamResponse:
    """The server's 401 when an API key is configured and the bearer token is not it."""
    config = request.app[CONFIG_KEY]
    if config.api_key is not None and not request.path.startswith("/_fake/"):
        header = request.headers.get("Authorization", "")
        if header != f"Bearer {config.api_key}":
            return _answer(errors.unauthorized(config.profile.personality, bool(header)))
    result: web.StreamResponse = await handler(request)
    return result


def _answer(answer: errors.Answer) -> web.Response:
    status, body = answer
    return web.Response(text=json.dumps(body, separators=(",", ":")), status=status,
                        content_type="application/json")


def _json(personality: Personality, body: Json) -> web.Response:
    return web.Response(text=dumps(personality, body), content_type="application/json")


async def list_models(request: web.Request) -> web.Response:
    config = request.app[CONFIG_KEY]
    body = models_body(config.profile, config.models, config.max_model_len)
    return _json(config.profile.personality, body)


# ---------------------------------------------------------------------------- routes


async def chat_route(request: web.Request) -> web.StreamResponse:
    """`POST /v1/chat/completions`, streaming or not."""
    config = request.app[CONFIG_KEY]
    body = await request.json()
    model = str(body.get("model", ""))
    try:
        require_known_model(config, model)
        texts = message_texts(body)
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        contents = strings_in([m.get("content") for m in messages])
        prompt_tokens = count_tokens("x" * sum(len(t) for t in contents))
        turns = sum(1 for m in messages if m.get("role") == "assistant")
        plan = plan_for(config, "chat", model, texts, prompt_tokens, turns)
        check_chat(config, body)
        check_limit(config, body, prompt_tokens)
    except Refused as refused:
        return _answer(refused.answer)
    profile, field = config.profile, config.profile.reasoning_field
    if not body.get("stream"):
        whole = chat_completion(profile, plan.reply, field)
        return await send_whole(request, profile.personality, plan, whole)
    chunks = chat_chunks(profile, plan.reply, field, _include_usage(body))
    return await send_stream(request, profile.personality, plan, chunks)


def _include_usage(body: Json) -> bool:
    return bool((body.get("stream_options") or {}).get("include_usage"))


async def completions_route(request: web.Request) -> web.StreamResponse:
    """`POST /v1/completions` (legacy text completions), streaming or not."""
    config = request.app[CONFIG_KEY]
    body = await request.json()
    model = str(body.get("model", ""))
    texts = list(strings_in(body.get("prompt")))
    try:
        require_known_model(config, model)
        prompt_tokens = count_tokens("x" * sum(len(t) for t in texts))
        plan = plan_for(config, "text", model, texts, prompt_tokens)
        check_limit(config, body, prompt_tokens)
    except Refused as refused:
        return _answer(refused.answer)
    profile = config.profile
    if not body.get("stream"):
        whole = text_completion(profile, plan.reply)
        return await send_whole(request, profile.personality, plan, whole)
    chunks = text_chunks(profile, plan.reply, _include_usage(body))
    return await send_stream(request, profile.personality, plan, chunks)


async def embeddings_route(request: web.Request) -> web.Response:
    """`POST /v1/embeddings`: one vector per input, or per token (llama-cpp-python)."""
    config = request.app[CONFIG_KEY]
    body = await request.json()
    model = str(body.get("model", ""))
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else [str(item) for item in raw or []]
    name = config.profile.personality
    try:
        require_known_model(config, model)
        status = find_directives(inputs).get("status")
        if status is not None:
            raise Refused(errors.scripted_error(name, int(status)))
        if config.profile.embeddings == "off":
            raise Refused(errors.embeddings_unavailable(name))
    except Refused as refused:
        return _answer(refused.answer)
    per_token = config.profile.embeddings == "per_token"
    # llama-cpp-python ignores encoding_format and always sends floats; the others honour base64.
    as_base64 = body.get("encoding_format") == "base64" and name != "llama_cpp_python"
    return _json(name, embeddings(model, inputs, config.embedding_dim, per_token, as_base64))


@contextlib.asynccontextmanager
async def running_upstream_server(personality: Personality = "vllm", host: str = "127.0.0.1",
                                  port: int = 0, ssl_context: ssl.SSLContext | None = None,
                                  **switches: Any) -> AsyncIterator[str]:
    """Serve a fake upstream on host:port (0 = free; HTTPS with `ssl_context`) and yield its base URL, ending in `/v1`."""
    runner = web.AppRunner(create_app(personality, **switches), access_log=None,
                           handler_cancellation=True, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://{host}:{runner.addresses[0][1]}/v1"
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--personality", default="vllm", choices=PERSONALITIES)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--api-key")
    parser.add_argument("--max-model-len", type=int)
    args = parser.parse_args()
    app = create_app(args.personality, api_key=args.api_key, max_model_len=args.max_model_len)
    web.run_app(app, host=args.host, port=args.port, access_log=None, handler_cancellation=True)


if __name__ == "__main__":
    main()
