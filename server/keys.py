"""Typed application and request state keys, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from executors import Backend, Background, CliSlots
from server.agent.toolbox import Toolbox
from server.facts import RequestFacts
from server.metrics import Metrics
from server.pipeline.catalog import ModelCatalog
from server.responses_store import ResponseStore
from server.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
BACKENDS = web.AppKey("backends", Mapping[str, Backend])
CATALOG = web.AppKey("catalog", ModelCatalog)
SLOTS = web.AppKey("slots", CliSlots)
BACKGROUND = web.AppKey("background", Background)
METRICS = web.AppKey("metrics", Metrics)
TOOLBOX = web.AppKey("toolbox", Toolbox)
RESPONSE_STORE = web.AppKey("response_store", ResponseStore)

FACTS = web.RequestKey("facts", RequestFacts)
RATE_HEADERS = web.RequestKey("rate_headers", dict[str, str])
