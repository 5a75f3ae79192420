"""GET /health."""

from aiohttp import web

from server.keys import BACKENDS
from server.pipeline.health import health_report


async def health(request: web.Request) -> web.Response:
    """Per-backend status; 503 when no backend can run at all."""
    report = await health_report(request.app[BACKENDS])
    return web.json_response(report, status=503 if report["status"] == "unavailable" else 200)
