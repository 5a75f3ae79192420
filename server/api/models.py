"""GET /v1/models and /v1/models/{id}."""

from typing import Any

from aiohttp import web

from server.keys import CATALOG
from server.pipeline.catalog import ModelInfo


def _model_json(model: ModelInfo) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": model.owned_by}


async def list_models(request: web.Request) -> web.Response:
    """Every model of every enabled backend; `?refresh=true` rediscovers now."""
    refresh = request.query.get("refresh", "").lower() in ("1", "true", "yes")
    models = await request.app[CATALOG].models(refresh=refresh)
    return web.json_response({"object": "list", "data": [_model_json(m) for m in models]})


async def get_model(request: web.Request) -> web.Response:
    """One model by public (`copilot/gpt-5.4`) or bare id."""
    model = await request.app[CATALOG].resolve(request.match_info["model_id"])
    return web.json_response(_model_json(model))
