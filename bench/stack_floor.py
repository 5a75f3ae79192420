"""The stack's own floor: a bare aiohttp server streaming the bench's chunks, with no CLI behind it.

It reads the request's JSON and sends `--tokens` chat chunks (encoded once, at start-up), one
every `--delay` seconds, each in its own write, then `data: [DONE]`: what any aiohttp server
forwarding a token the moment it arrives must at least do. Two ways to write:
- `/v1/chat/completions`: one task per stream, `await response.write(chunk)` per chunk (aiohttp's API);
- `/raw/v1/chat/completions`: a timer callback writes HTTP chunked framing straight to the socket's
  transport (no task wake, no aiohttp writer): what is left once aiohttp's response API is bypassed.
bench/bridge_bench.py runs it as a separate process and reads its CPU per request.
Usage: python bench/stack_floor.py --port P [--tokens 100] [--delay 0.005]
"""

from __future__ import annotations

import argparse
import asyncio
import json

from aiohttp import web

SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
DONE = b"data: [DONE]\n\n"


def chunks(tokens: int) -> list[bytes]:
    """The SSE frames of a `tokens`-word answer, shaped like the bridge's."""
    frames = []
    for i in range(tokens):
        chunk = {"id": "chatcmpl-floor", "object": "chat.completion.chunk", "created": 0, "model": "copilot/gpt-5.4",
                 "choices": [{"index": 0, "delta": {"content": f"word{i} "}, "finish_reason": None}]}
        frames.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
    return frames


def app(tokens: int, delay: float) -> web.Application:
    """The floor server: the two ways to write, and /health."""
    frames = chunks(tokens)

    async def through_aiohttp(request: web.Request) -> web.StreamResponse:
        await request.json()
        response = web.StreamResponse(headers=SSE_HEADERS)
        await response.prepare(request)
        for frame in frames:
            await asyncio.sleep(delay)
            await response.write(frame)
        await response.write(DONE)
        await response.write_eof()
        return response

    async def straight_to_socket(request: web.Request) -> web.StreamResponse:
        await request.json()
        response = web.StreamResponse(headers=SSE_HEADERS)
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        transport = request.transport
        done = loop.create_future()

        def send(i: int) -> None:
            if done.done():  # the handler was cancelled: the client left
                return
            if transport is None or transport.is_closing():
                done.set_result(None)
                return
            transport.write(b"%x\r\n%s\r\n" % (len(frames[i]), frames[i]))  # HTTP/1.1 chunked framing
            if i + 1 < len(frames):
                loop.call_later(delay, send, i + 1)
            else:
                done.set_result(None)

        loop.call_later(delay, send, 0)
        await done
        await response.write(DONE)
        await response.write_eof()
        return response

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    application = web.Application()
    application.router.add_post("/v1/chat/completions", through_aiohttp)
    application.router.add_post("/raw/v1/chat/completions", straight_to_socket)
    application.router.add_get("/health", health)
    return application


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.005)
    args = parser.parse_args()
    web.run_app(app(args.tokens, args.delay), host="127.0.0.1", port=args.port, access_log=None, print=None)
