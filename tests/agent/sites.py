"""Local HTTP servers for the http_request tool to reach (127.0.0.1) or to be refused (127.0.0.2)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Seen:
    """One request a site received."""

    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Site:
    """A running test site and every request it received."""

    server: TestServer
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str) -> str:
        """An absolute URL on this site."""
        return str(self.server.make_url(path))

    @property
    def origin(self) -> str:
        """`host:port` as AGENT_HTTP_ALLOW writes it."""
        return f"{self.server.host}:{self.server.port}"


def site_app(seen: list[Seen]) -> web.Application:
    """Routes: /status, /json, /redirect?to=, /slow?s=, /big?n=, /binary, /echo, /see-other."""

    async def record(request: web.Request) -> None:
        seen.append(Seen(request.method, request.path_qs, dict(request.headers), await request.text()))

    async def status(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text="service is up", headers={"X-Site": "status"})

    async def as_json(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"status": "up"})

    async def redirect(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound(request.query["to"])

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        await asyncio.sleep(float(request.query.get("s", "5")))
        return web.Response(text="late")

    async def big(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text="x" * int(request.query["n"]))

    async def binary(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(body=b"\x89PNG\r\n\x1a\n\xff\xfe\x00", content_type="image/png")

    async def echo(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"method": request.method, "body": await request.text()})

    async def see_other(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPSeeOther("/echo")

    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_get("/json", as_json)
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_get("/slow", slow)
    app.router.add_get("/big", big)
    app.router.add_get("/binary", binary)
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/see-other", see_other)
    app.router.add_route("*", "/{tail:.*}", status)
    return app


async def start_site(aiohttp_server: Any, host: str) -> Site:
    """Serve the site app on `host` at a free port."""
    seen: list[Seen] = []
    server = await aiohttp_server(site_app(seen), host=host)
    return Site(server, seen)
