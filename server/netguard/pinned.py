"""An aiohttp resolver that only answers with addresses the guard already checked."""

from __future__ import annotations

import socket
from collections.abc import Sequence

from aiohttp.abc import AbstractResolver, ResolveResult

from server.netguard.addresses import parse_address
from server.netguard.hostrules import normal_host


class PinnedResolver(AbstractResolver):
    """Host → the checked addresses; it never asks DNS, so the connection goes where the check looked."""

    def __init__(self) -> None:
        self._pinned: dict[str, tuple[str, ...]] = {}

    def pin(self, host: str, addresses: Sequence[str]) -> None:
        """Let connections to `host` use exactly these addresses."""
        self._pinned[normal_host(host)] = tuple(addresses)

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """The pinned addresses; OSError for a host nobody checked."""
        addresses = self._pinned.get(normal_host(host))
        if not addresses:
            raise OSError(f"{host} was not checked by the guard")
        results: list[ResolveResult] = []
        for text in addresses:
            ip = parse_address(text)
            if ip is None:
                continue
            results.append({
                "hostname": host,
                "host": str(ip),
                "port": port,
                "family": socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            })
        return results

    async def close(self) -> None:
        """Nothing to release."""
