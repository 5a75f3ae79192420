"""Which IP addresses count as public: the address half of the http_request guard (pure, no I/O)."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

_SHARED = IPv4Network("100.64.0.0/10")  # carrier-grade NAT: someone's internal network, not the internet
_NAT64 = IPv6Network("64:ff9b::/96")  # the well-known NAT64 prefix carries an IPv4 address in its last 32 bits
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # local-use NAT64: translates into a private network


def parse_address(text: str) -> IPAddress | None:
    """The address `text` spells (brackets and an IPv6 zone allowed), or None for a host name."""
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address reaches in the end: mapped, compatible, NAT64, 6to4, Teredo."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address (de-obfuscated)
    high, low = int(ip) >> 32, int(ip) & 0xFFFFFFFF
    if high == 0 and low > 1:  # the deprecated IPv4-compatible form ::a.b.c.d (not :: or ::1)
        return IPv4Address(low)
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` is not a public internet address (e.g. "loopback"), or None when it is one."""
    if isinstance(ip, IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            problem = address_problem(inner)
            return f"{problem} (IPv4 {inner} inside IPv6)" if problem else None
        if ip in _NAT64_LOCAL:
            return "private (local-use NAT64)"
    # Python's flags overlap (169.254/16 is private and link-local); the first match names it best.
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, IPv4Address) and ip in _SHARED:
        return "shared (carrier-grade NAT)"
    if isinstance(ip, IPv6Address) and ip.is_site_local:
        return "site-local"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None
