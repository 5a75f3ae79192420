"""Operator host rules for http_request: `host`, `host:port`, `*.example.com`, `[::1]:8080`, `*`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.netguard.addresses import IPAddress, parse_address

_LABELS = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")


def normal_host(host: str) -> str:
    """A host as rules compare it: lower case, no brackets, no trailing dot."""
    return host.strip("[]").rstrip(".").lower()


@dataclass(frozen=True, slots=True)
class HostRule:
    """One allowed host (or every subdomain of one, or any host), on one port or any."""

    host: str  # normalised name or address text; "*" for any host
    port: int | None = None
    subdomains: bool = False  # `*.example.com`: any name under example.com, not example.com itself

    def matches(self, host: str, port: int) -> bool:
        """True when a URL's host and (effective) port fall under this rule."""
        if self.port is not None and self.port != port:
            return False
        if self.host == "*":
            return True
        name = normal_host(host)
        if self.subdomains:
            return name.endswith("." + self.host)
        mine, theirs = parse_address(self.host), parse_address(name)
        if mine is not None or theirs is not None:
            return _same_address(mine, theirs)
        return name == self.host

    def __str__(self) -> str:
        host = f"*.{self.host}" if self.subdomains else self.host
        if ":" in host:
            host = f"[{host}]"
        return host if self.port is None else f"{host}:{self.port}"


def _same_address(a: IPAddress | None, b: IPAddress | None) -> bool:
    return a is not None and b is not None and a == b


def parse_host_rule(text: str) -> HostRule:
    """Read one rule; ValueError says what is wrong with it."""
    entry = text.strip().lower()
    if "/" in entry:
        raise ValueError(f"{text!r} is not a host, host:port, *.domain or * (hosts, not URLs)")
    host, port = _split_port(entry)
    subdomains = host.startswith("*.")
    if subdomains:
        host = host[2:]
    host = host.rstrip(".")
    if host == "*" and not subdomains:
        return HostRule("*", port)
    if parse_address(host) is not None and not subdomains:
        return HostRule(str(parse_address(host)), port)
    if not _LABELS.match(host):
        raise ValueError(f"{text!r} is not a host, host:port, *.domain or *")
    return HostRule(host, port, subdomains)


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [v6]:port or [v6]
        host, _, rest = entry[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"{entry!r}: expected [address]:port")
        return host, _port(rest[1:], entry) if rest else None
    if entry.count(":") > 1:  # a bare IPv6 address has no port
        return entry, None
    host, sep, port = entry.partition(":")
    return host, _port(port, entry) if sep else None


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{entry!r}: the port must be 1-65535")
    return int(text)
