"""Typed application state keys, in one place."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from executors import Executor
from server.health import HealthProbe
from server.models import ModelCatalog
from server.settings import Settings
from server.slots import CliSlots

SETTINGS = web.AppKey("settings", Settings)
EXECUTORS = web.AppKey("executors", Mapping[str, Executor])
CATALOG = web.AppKey("catalog", ModelCatalog)
SLOTS = web.AppKey("slots", CliSlots)
HEALTH = web.AppKey("health", HealthProbe)
