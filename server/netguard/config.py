"""An address guard from the environment: an allowlist variable and a private-addresses variable."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_network

from executors.envconfig import ConfigError, parse_list
from server.netguard.addresses import IPNetwork
from server.netguard.guard import HttpGuard
from server.netguard.hostrules import HostRule, parse_host_rule


def guard_from_env(env: Mapping[str, str], allow_key: str, private_key: str) -> HttpGuard:
    """Hosts from `allow_key`; hosts or networks (`10.1.0.0/16`) from `private_key`."""
    allow = tuple(_rule(allow_key, entry) for entry in parse_list(env, allow_key))
    private_rules: list[HostRule] = []
    networks: list[IPNetwork] = []
    for entry in parse_list(env, private_key):
        if "/" in entry:
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError as exc:
                raise ConfigError(private_key, f"{entry!r} is not a network: {exc}") from None
        else:
            private_rules.append(_rule(private_key, entry))
    return HttpGuard(allow, tuple(private_rules), tuple(networks), allow_key=allow_key, private_key=private_key)


def _rule(key: str, entry: str) -> HostRule:
    try:
        return parse_host_rule(entry)
    except ValueError as exc:
        raise ConfigError(key, str(exc)) from None
