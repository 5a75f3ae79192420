"""Whether a CLI's credentials look present: in the environment or in a config file (never their value)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

AuthFile = tuple[Path, tuple[str, ...]]  # a file, and words only a logged-in file contains


def _mentions(path: Path, words: tuple[str, ...]) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:1_000_000]
    except OSError:
        return False
    return any(word in text for word in words)


def find_credentials(env: Mapping[str, str], env_keys: Sequence[str], files: Sequence[AuthFile]) -> tuple[bool, str]:
    """True and where they were seen, or False and a hint."""
    for key in env_keys:
        if env.get(key, "").strip():
            return True, f"env {key}"
    for path, words in files:
        if _mentions(path, words):
            return True, str(path)
    return False, "no credentials found in the environment or the CLI's config dir"


def home_of(env: Mapping[str, str]) -> Path:
    """The HOME the CLI runs with."""
    return Path(env.get("HOME") or Path.home())
