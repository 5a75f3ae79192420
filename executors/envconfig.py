"""Typed readers for environment values (shared by server and backend settings); each error names the variable."""

from __future__ import annotations

from collections.abc import Mapping

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(ValueError):
    """A configuration value is invalid; the message starts with the variable's name."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


def _raw(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key)
    if value is None or not value.strip():
        return None
    return value.strip()


def parse_int(
    env: Mapping[str, str], key: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Read an integer within bounds."""
    raw = _raw(env, key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(key, f"expected an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(key, f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(key, f"must be at most {maximum}, got {value}")
    return value


def parse_float(env: Mapping[str, str], key: str, default: float, *, minimum: float | None = None) -> float:
    """Read a number with a lower bound."""
    raw = _raw(env, key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(key, f"expected a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(key, f"must be at least {minimum}, got {value}")
    return value


def parse_bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    """Read a boolean written as true/false, yes/no, on/off or 1/0."""
    raw = _raw(env, key)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigError(key, f"expected true or false, got {raw!r}")


def parse_choice(env: Mapping[str, str], key: str, default: str, choices: tuple[str, ...]) -> str:
    """Read one of a fixed set of words (case-insensitive)."""
    raw = _raw(env, key)
    if raw is None:
        return default
    if raw.lower() not in choices:
        raise ConfigError(key, f"expected one of {', '.join(choices)}, got {raw!r}")
    return raw.lower()


def parse_list(env: Mapping[str, str], key: str) -> list[str]:
    """Read a comma-separated list, dropping empty items."""
    raw = _raw(env, key)
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else []


def parse_mapping(env: Mapping[str, str], key: str) -> dict[str, str]:
    """Read `pattern=value` pairs separated by commas."""
    result: dict[str, str] = {}
    for item in parse_list(env, key):
        pattern, sep, value = item.partition("=")
        if not sep or not pattern.strip() or not value.strip():
            raise ConfigError(key, f"expected pattern=value pairs, got {item!r}")
        result[pattern.strip()] = value.strip()
    return result


def parse_str(env: Mapping[str, str], key: str, default: str) -> str:
    """Read a string, the default when unset or blank."""
    return _raw(env, key) or default
