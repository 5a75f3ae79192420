"""Fixtures for the agent tests: a reachable site on 127.0.0.1, a refused one on 127.0.0.2."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agent.sites import Site, start_site


@pytest.fixture
async def site(aiohttp_server: Any) -> Site:
    """The site http_request may reach (loopback allowed for its exact port only)."""
    return await start_site(aiohttp_server, "127.0.0.1")


@pytest.fixture
async def canary(aiohttp_server: Any) -> Site:
    """A site on 127.0.0.2 that is on the allowlist but loopback: every test asserts it saw nothing."""
    return await start_site(aiohttp_server, "127.0.0.2")


@pytest.fixture
def agent_config(site: Site, canary: Site) -> dict[str, str]:
    """Both built-in tools; the site and the canary allowed as hosts, only the site's address as loopback."""
    return {
        "AGENT_TOOLS": "time_now,http_request",
        "AGENT_HTTP_ALLOW": f"{site.origin},{canary.origin}",
        "AGENT_HTTP_ALLOW_PRIVATE": site.origin,
        "AGENT_HTTP_TIMEOUT": "5000",
    }
