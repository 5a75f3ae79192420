"""Middlewares, outermost first in `server.app`: in-flight tracking, context, request log, CORS, errors, auth, rate limit."""

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
