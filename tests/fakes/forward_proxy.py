"""A forwarding HTTP proxy for tests: relays absolute-form requests (`GET http://host/path`) as
they stream, records what it relayed, and can demand Basic credentials (407 without them)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

# Per RFC 9110 these concern one connection, not the request: a proxy does not pass them on.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade", "host", "content-length"}


@dataclass
class ProxyLog:
    """What the proxy saw: each relayed URL, and each Proxy-Authorization value (None when absent)."""

    urls: list[str] = field(default_factory=list)
    credentials: list[str | None] = field(default_factory=list)


@contextlib.asynccontextmanager
async def running_forward_proxy(require: str | None = None) -> AsyncIterator[tuple[str, ProxyLog]]:
    """Serve the proxy on a free loopback port; yield its URL and its log.

    `require`: the exact Proxy-Authorization value to demand (e.g. "Basic dTpw").
    """
    seen = ProxyLog()
    client = aiohttp.ClientSession(auto_decompress=False)

    async def relay(request: web.Request) -> web.StreamResponse:
        target = request.raw_path
        if not target.startswith("http://"):
            return web.Response(status=400, text="a proxy takes absolute-form requests only")
        credential = request.headers.get("Proxy-Authorization")
        seen.credentials.append(credential)
        if require is not None and credential != require:
            return web.Response(status=407, headers={"Proxy-Authenticate": 'Basic realm="test"'},
                                text="proxy authentication required")
        seen.urls.append(target)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with client.request(request.method, target, headers=headers, data=await request.read(),
                                  allow_redirects=False) as upstream:
            response = web.StreamResponse(status=upstream.status, headers={
                k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP})
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", relay)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    finally:
        await runner.cleanup()
        await client.close()
