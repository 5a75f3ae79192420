"""HTTP routes: thin handlers over the pipeline."""

from aiohttp import web

from server.api import chat_completions, health, metrics, models


def add_routes(app: web.Application) -> None:
    """Register every route of the API."""
    for prefix in ("/v1", ""):
        app.router.add_post(f"{prefix}/chat/completions", chat_completions.chat_completions)
    app.router.add_get("/v1/models", models.list_models)
    app.router.add_get("/v1/models/{model_id:.+}", models.get_model)
    app.router.add_get("/models", models.list_models)
    app.router.add_get("/health", health.health)
    app.router.add_get("/metrics", metrics.metrics)
