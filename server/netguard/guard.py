"""The address guard: which URLs the bridge may fetch, checked host by host and address by address.

The agent's `http_request` and image URLs share it. A URL passes when its scheme is http(s), it
carries no credentials, its host is on the operator's allowlist, and every address the host
resolves to is public, or is allowed to be private explicitly. The addresses it returns are the
ones the request must connect to: resolving again later could give another answer (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv6Address

from yarl import URL

from server.netguard.addresses import IPAddress, IPNetwork, address_problem, parse_address
from server.netguard.hostrules import HostRule, normal_host


class FetchFailed(Exception):
    """A URL could not be fetched; the message says why (safe to show the client or the model)."""


class FetchRefused(FetchFailed):
    """A rule stopped the fetch before anything was sent (a host not allowed, a private address…)."""


Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Host and port → the addresses a connection may use (as text)."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (getaddrinfo), every address once."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class CheckedTarget:
    """A URL that passed the guard, with the addresses it may connect to."""

    url: URL
    host: str
    port: int
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HttpGuard:
    """The operator's rules: allowed hosts, and private hosts or networks allowed explicitly.

    `allow_key` and `private_key` name the settings they came from, for the refusals' messages.
    """

    allow: tuple[HostRule, ...] = ()
    allow_private: tuple[HostRule, ...] = ()
    private_networks: tuple[IPNetwork, ...] = ()
    allow_key: str = "AGENT_HTTP_ALLOW"
    private_key: str = "AGENT_HTTP_ALLOW_PRIVATE"

    def check_url(self, url: URL) -> tuple[str, int]:
        """The URL's host and port when its form and host are allowed; FetchRefused otherwise."""
        if url.scheme not in ("http", "https"):
            raise FetchRefused(f"only http and https URLs can be fetched, not {url.scheme or 'a relative URL'!r}")
        if url.user is not None or url.password is not None:
            raise FetchRefused("credentials in the URL are not sent; put them in a header")
        host, port = url.raw_host, url.port
        if not host or port is None:
            raise FetchRefused(f"the URL {str(url)!r} has no host")
        if not any(rule.matches(host, port) for rule in self.allow):
            raise FetchRefused(f"{_where(host, port)} is not on the operator's allowlist ({self.allow_key})")
        return host, port

    def check_addresses(self, host: str, port: int, addresses: Sequence[str]) -> tuple[str, ...]:
        """All of them when each is public or explicitly allowed; FetchRefused names the first that is not."""
        if not addresses:
            raise FetchFailed(f"{normal_host(host)} did not resolve to any address")
        for text in addresses:
            ip = parse_address(text)
            if ip is None:
                raise FetchRefused(f"{normal_host(host)} resolved to {text!r}, which is not an IP address")
            problem = address_problem(ip)
            if problem is not None and not self._private_allowed(host, port, ip):
                raise FetchRefused(
                    f"{_where(host, port)} resolves to {text}, a {problem} address; such addresses are "
                    f"reachable only when the operator allows them ({self.private_key})"
                )
        return tuple(addresses)

    async def check(self, url: URL, resolve: Resolver = system_resolver) -> CheckedTarget:
        """Check the URL, resolve its host once, check every address; the result says where to connect."""
        host, port = self.check_url(url)
        literal = parse_address(host)
        if literal is not None:
            addresses: Sequence[str] = [str(literal)]
        else:
            try:
                addresses = await resolve(normal_host(host), port)
            except OSError as exc:
                raise FetchFailed(f"could not resolve {normal_host(host)}: {exc.strerror or exc}") from None
        return CheckedTarget(url, host, port, self.check_addresses(host, port, addresses))

    def _private_allowed(self, host: str, port: int, ip: IPAddress) -> bool:
        if any(rule.matches(host, port) for rule in self.allow_private):
            return True
        plain = ip.ipv4_mapped if isinstance(ip, IPv6Address) and ip.ipv4_mapped else ip
        return any(plain in net for net in self.private_networks)


def _where(host: str, port: int) -> str:
    name = normal_host(host)
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
