"""OpenAI-style tool call ids."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_call_id() -> str:
    """A fresh `call_` + 24 alphanumerics id (models' native ids are never reused)."""
    return "call_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))
