"""Upstream settings: one server from BACKEND_*, more from UPSTREAMS and UPSTREAM_<NAME>_*.

One upstream is the common case and keeps the names people already use (`BACKEND_URL`, or
`BACKEND_HOST` / `BACKEND_PORT` / `BACKEND_PROTOCOL`, `BACKEND_PRESET`, `BACKEND_API_KEY`,
`BACKEND_NAME`, for HTTPS `BACKEND_CA_FILE` / `BACKEND_TLS_VERIFY`, `BACKEND_PROXY`). Several are listed by name in `UPSTREAMS=local,gpu`, each with the same
settings under its own prefix (`UPSTREAM_GPU_URL`, `UPSTREAM_GPU_API_KEY`, …): one variable per
value, so a key can come from a secret store on its own and every error names one variable.
"""

from __future__ import annotations

import base64
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from executors.envconfig import ConfigError, parse_bool, parse_choice, parse_int, parse_list
from executors.protocol import Backend, BackendConfig, BackendContext
from executors.upstream.presets import GENERIC, SERVER_PARAMS, Preset, presets

DEFAULT_NAME = "upstream"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_ADDRESS_KEYS = ("URL", "HOST", "PORT", "PROTOCOL", "PRESET")
_OTHER_KEYS = ("NAME", "API_KEY", "MAX_TOKENS", "TIMEOUT", "CA_FILE", "TLS_VERIFY", "PROXY")


@dataclass(frozen=True, slots=True)
class UpstreamSettings:
    """One OpenAI-compatible model server: where it is, its key, and its limits."""

    name: str
    base_url: str  # ends in the API root, e.g. http://127.0.0.1:11434/v1 (no trailing slash)
    api_key: str | None = field(default=None, repr=False)
    preset: str | None = None
    max_tokens: int | None = None  # clamp for max_tokens / max_completion_tokens
    timeout_s: float | None = None  # connect + response headers; None: only REQUEST_TIMEOUT
    max_tokens_field: str = "max_tokens"
    params: frozenset[str] = SERVER_PARAMS  # the OpenAI parameters sent on as they are
    enabled_by_default: bool = True
    ca_file: str | None = None  # PEM of the CA(s) that signed an https server's certificate
    tls_verify: bool = True  # False: accept any certificate (a self-signed server on a trusted network)
    prefix: str = "BACKEND_"  # where its settings come from, for messages that name one
    proxy: str | None = field(default=None, repr=False)  # http://[user:password@]host:port

    @property
    def proxy_address(self) -> str | None:
        """The proxy without its credentials (for /health and messages)."""
        if self.proxy is None:
            return None
        parts = urlsplit(self.proxy)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")

    def proxy_authorization(self) -> str | None:
        """The Proxy-Authorization value for credentials in the proxy URL (Basic), or None."""
        parts = urlsplit(self.proxy or "")
        if not parts.username:
            return None
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What the connection pool checks certificates with: the system's CAs, the CA file, or nothing."""
        if not self.tls_verify:
            return False
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=self.ca_file)

    def build(self, context: BackendContext) -> Backend:
        """The backend that talks to this server."""
        from executors.upstream.backend import (
            UpstreamBackend,  # aiohttp's client loads only when used
        )

        return UpstreamBackend(self, context)


def read_configs(env: Mapping[str, str], project_root: Path | None) -> list[BackendConfig]:
    """The BACKEND_* upstream (when an address or preset is set) and every one UPSTREAMS names."""
    configs: list[BackendConfig] = []
    if any(_set(env, f"BACKEND_{key}") for key in _ADDRESS_KEYS):
        configs.append(_read_one(env, "BACKEND_", _name(env, "BACKEND_NAME", DEFAULT_NAME)))
    else:
        for key in _OTHER_KEYS:
            if _set(env, f"BACKEND_{key}"):
                raise ConfigError(f"BACKEND_{key}", "no upstream is configured; set BACKEND_URL or BACKEND_PRESET too")
    prefixes: dict[str, str] = {}
    for raw in parse_list(env, "UPSTREAMS"):
        name = _checked_name("UPSTREAMS", raw.lower())
        prefix = "UPSTREAM_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_"
        if prefix in prefixes:
            raise ConfigError("UPSTREAMS", f"{prefixes[prefix]!r} and {name!r} share the settings prefix {prefix}")
        prefixes[prefix] = name
        if not any(_set(env, prefix + key) for key in _ADDRESS_KEYS):
            raise ConfigError("UPSTREAMS", f"upstream {name!r} needs {prefix}URL or {prefix}PRESET")
        configs.append(_read_one(env, prefix, name))
    return configs


def _read_one(env: Mapping[str, str], prefix: str, name: str) -> UpstreamSettings:
    preset_name = parse_choice(env, prefix + "PRESET", "", tuple(presets())) or None
    preset = presets()[preset_name] if preset_name else GENERIC
    api_key = _get(env, prefix + "API_KEY")
    if preset.needs_api_key and api_key is None:
        raise ConfigError(prefix + "API_KEY", f"required with {prefix}PRESET={preset_name}")
    timeout_ms = parse_int(env, prefix + "TIMEOUT", 0, minimum=1) if _set(env, prefix + "TIMEOUT") else None
    return UpstreamSettings(
        name=name,
        base_url=_base_url(env, prefix, preset),
        api_key=api_key,
        preset=preset_name,
        max_tokens=parse_int(env, prefix + "MAX_TOKENS", 0, minimum=1) if _set(env, prefix + "MAX_TOKENS") else None,
        timeout_s=timeout_ms / 1000 if timeout_ms else None,
        max_tokens_field=preset.max_tokens_field,
        params=preset.params,
        ca_file=_ca_file(env, prefix + "CA_FILE"),
        tls_verify=parse_bool(env, prefix + "TLS_VERIFY", True),
        prefix=prefix,
        proxy=_proxy(env, prefix + "PROXY"),
    )


def _proxy(env: Mapping[str, str], key: str) -> str | None:
    """An HTTP proxy's URL: http://host:port, credentials allowed (sent as Basic auth)."""
    url = _get(env, key)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ConfigError(key, f"not a valid URL ({exc})") from None
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ConfigError(key, "expected an HTTP proxy's address such as http://proxy.example:3128")
    return url


def _ca_file(env: Mapping[str, str], key: str) -> str | None:
    """A readable PEM file of CA certificates (loaded once here, so a bad one stops the start)."""
    path = _get(env, key)
    if path is None:
        return None
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(key, f"cannot load CA certificates from {path!r}: {exc}") from None
    return path


def _base_url(env: Mapping[str, str], prefix: str, preset: Preset) -> str:
    """`<prefix>URL` as given, or the preset's address with HOST / PORT / PROTOCOL replaced."""
    url = _get(env, prefix + "URL")
    parts = [key for key in ("HOST", "PORT", "PROTOCOL") if _set(env, prefix + key)]
    if url is not None:
        if parts:
            raise ConfigError(prefix + "URL", f"set either {prefix}URL or {prefix}{parts[0]}, not both")
        return _checked_url(prefix + "URL", url)
    protocol = parse_choice(env, prefix + "PROTOCOL", preset.protocol, ("http", "https"))
    default_port = preset.port if preset is not GENERIC else (443 if protocol == "https" else 80)
    host = _get(env, prefix + "HOST") or preset.host
    if not re.fullmatch(r"[A-Za-z0-9._:\[\]-]+", host):
        raise ConfigError(prefix + "HOST", f"expected a host name or address, got {host!r}")
    port = parse_int(env, prefix + "PORT", default_port, minimum=1, maximum=65535)
    return _checked_url(prefix + "HOST", f"{protocol}://{host}:{port}{preset.path}")


def _checked_url(key: str, url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ConfigError(key, f"not a valid URL: {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(key, f"expected an http:// or https:// URL such as http://127.0.0.1:11434/v1, got {url!r}")
    if parts.username or parts.password:
        raise ConfigError(key, "put credentials in the API_KEY setting, not in the URL")
    if parts.query or parts.fragment:
        raise ConfigError(key, f"expected the API's base URL without a query, got {url!r}")
    path = parts.path.rstrip("/") or "/v1"  # a bare host means the usual OpenAI root
    return f"{parts.scheme}://{parts.netloc}{path}"


def _name(env: Mapping[str, str], key: str, default: str) -> str:
    return _checked_name(key, (_get(env, key) or default).lower())


def _checked_name(key: str, name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(key, f"{name!r} is not a usable name: letters, digits, '.', '_' or '-', no '/'")
    return name


def _get(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key, "").strip()
    return value or None


def _set(env: Mapping[str, str], key: str) -> bool:
    return _get(env, key) is not None
