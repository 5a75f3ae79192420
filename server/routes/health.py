"""GET /health."""

from aiohttp import web

from server.appkeys import HEALTH


async def health(request: web.Request) -> web.Response:
    """Per-backend CLI status; 503 when no backend can run at all."""
    report = await request.app[HEALTH].report()
    return web.json_response(report, status=503 if report["status"] == "unavailable" else 200)
