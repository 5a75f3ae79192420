"""HTTP routes: thin handlers over the pipeline."""

from aiohttp import web

from server.api import agent, chat_completions, health, metrics, models, relay, responses


def add_routes(app: web.Application) -> None:
    """Register every route of the API."""
    for prefix in ("/v1", ""):
        app.router.add_post(f"{prefix}/chat/completions", chat_completions.chat_completions)
        app.router.add_post(f"{prefix}/completions", relay.completions)
        app.router.add_post(f"{prefix}/embeddings", relay.embeddings)
        app.router.add_post(f"{prefix}/responses", responses.create_response)
        app.router.add_get(f"{prefix}/responses/{{response_id}}", responses.get_response)
        app.router.add_delete(f"{prefix}/responses/{{response_id}}", responses.delete_response)
        app.router.add_get(f"{prefix}/responses/{{response_id}}/input_items", responses.list_input_items)
    app.router.add_get("/v1/models", models.list_models)
    app.router.add_get("/v1/models/{model_id:.+}", models.get_model)
    app.router.add_get("/models", models.list_models)
    app.router.add_get("/health", health.health)
    app.router.add_get("/metrics", metrics.metrics)
    app.router.add_post("/api/chat", agent.chat)
    app.router.add_post("/api/agent_chat", agent.agent_chat)
    app.router.add_get("/api/tools", agent.tools)
