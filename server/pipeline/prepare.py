"""From a parsed API request to a backend run: resolve the model, build the backend's request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from executors import Backend, BackendRequest, Message
from server.facts import RequestFacts
from server.pipeline.catalog import ModelCatalog, ModelInfo
from server.pipeline.tool_protocol import tool_protocol_for
from server.protocol.errors import InvalidRequest
from server.settings import Settings


@dataclass(frozen=True, slots=True)
class Target:
    """The model a request asked for and the backend that serves it."""

    model: ModelInfo
    backend: Backend


async def resolve_target(
    requested: str | None, catalog: ModelCatalog, backends: Mapping[str, Backend], settings: Settings, facts: RequestFacts
) -> Target:
    """The request's model (or DEFAULT_MODEL, or the first model); a 404 before anything runs."""
    requested = requested or settings.default_model
    if requested is None:
        models = await catalog.models()
        if not models:
            raise InvalidRequest("'model' is required", code="invalid_model", param="model")
        model = models[0]
    else:
        model = await catalog.resolve(requested)
    facts.model, facts.backend = model.id, model.backend
    return Target(model, backends[model.backend])


def backend_request(
    target: Target,
    settings: Settings,
    messages: Sequence[Message],
    *,
    tools: Sequence[Mapping[str, Any]] = (),
    tool_choice: Any = "auto",
    parallel_tool_calls: bool = True,
) -> BackendRequest:
    """The structured request the backend gets, with the tool protocol its model follows best.

    Its `params` stay empty: `pipeline.answer` fills in the ones the backend honours.
    """
    protocol = tool_protocol_for(target.model.id, settings.tool_dialects, target.backend.capabilities.default_dialect)
    return BackendRequest(
        model=target.model.backend_model,
        messages=tuple(messages),
        tools=tuple(tools),
        tool_choice=tool_choice,
        parallel_tool_calls=parallel_tool_calls,
        tool_protocol=protocol,
    )
