"""IMAGE_URL_*: whether and where the bridge fetches http(s) image URLs, and within what limits.

Off by default: only data URLs are taken until the operator lists hosts in IMAGE_URL_ALLOW
(`*` for any public host). Private and loopback addresses stay refused unless
IMAGE_URL_ALLOW_PRIVATE names them (hosts or networks), as for the agent's http_request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from executors.envconfig import parse_int
from server.netguard.config import guard_from_env
from server.netguard.guard import HttpGuard

ALLOW_KEY = "IMAGE_URL_ALLOW"
PRIVATE_KEY = "IMAGE_URL_ALLOW_PRIVATE"


@dataclass(frozen=True, slots=True)
class ImageSettings:
    """Where image URLs may be fetched from, how long it may take and how big an image may be."""

    guard: HttpGuard = field(default_factory=lambda: HttpGuard(allow_key=ALLOW_KEY, private_key=PRIVATE_KEY))
    timeout_s: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 3

    @property
    def fetch_urls(self) -> bool:
        """True when the operator allowed at least one host."""
        return bool(self.guard.allow)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ImageSettings:
        """Read IMAGE_URL_*; a bad value raises ConfigError naming the variable."""
        d = cls()
        return cls(
            guard=guard_from_env(env, ALLOW_KEY, PRIVATE_KEY),
            timeout_s=parse_int(env, "IMAGE_URL_TIMEOUT", 10_000, minimum=1) / 1000,
            max_bytes=parse_int(env, "IMAGE_URL_MAX_BYTES", d.max_bytes, minimum=1),
            max_redirects=parse_int(env, "IMAGE_URL_MAX_REDIRECTS", d.max_redirects, minimum=0, maximum=20),
        )
