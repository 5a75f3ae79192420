"""Typed application and request state keys, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from executors import Backend, Background, CliSlots
from server.facts import RequestFacts
from server.metrics import Metrics
from server.pipeline.catalog import ModelCatalog
from server.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
BACKENDS = web.AppKey("backends", Mapping[str, Backend])
CATALOG = web.AppKey("catalog", ModelCatalog)
SLOTS = web.AppKey("slots", CliSlots)
BACKGROUND = web.AppKey("background", Background)
METRICS = web.AppKey("metrics", Metrics)

FACTS = web.RequestKey("facts", RequestFacts)
RATE_HEADERS = web.RequestKey("rate_headers", dict[str, str])
