"""GET /metrics: Prometheus text (or OpenMetrics when the scraper asks for it)."""

from aiohttp import web

from server.keys import METRICS


async def metrics(request: web.Request) -> web.Response:
    """Every metric of this server (of all its workers with WORKERS>1)."""
    body, content_type = request.app[METRICS].exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})
