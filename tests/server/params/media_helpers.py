"""Images and reasoning through the bridge: test images, and what each fake CLI says it got."""

from __future__ import annotations

import base64
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import cli_records

THINKING = "Let me think about it."


def png(rgb: tuple[int, int, int], size: int = 2) -> bytes:
    """A small PNG of one colour."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return len(data).to_bytes(4, "big") + kind + data + crc.to_bytes(4, "big")

    header = size.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


RED = png((255, 0, 0))
BLUE = png((0, 0, 255))


def data_url(image: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(image).decode()}"


def sha(image: bytes) -> str:
    return hashlib.sha256(image).hexdigest()


def image_part(image: bytes) -> dict[str, Any]:
    """A chat `image_url` content part."""
    return {"type": "image_url", "image_url": {"url": data_url(image)}}


@dataclass(frozen=True)
class Seen:
    """What the fake CLI that answered was told: its reasoning-effort settings and the images'
    digests, and whether it was a long-lived process (a headless session, a pooled claude)."""

    effort: Any
    images: list[str]
    long_lived: bool


def seen_by(record_dir: Path, model: str) -> Seen:
    """What the CLI behind `model` (copilot/… or claude/…) got for the one request of the test."""
    records = cli_records(record_dir)
    if model.startswith("copilot/"):
        sessions = [s for r in records for s in (r.get("sessions") or {}).values() if s["prompts"] != ["warm-up"]]
        if sessions:
            (session,) = sessions
            images = [a["sha256"] for turn in session["attachments"] for a in turn]
            return Seen(session["create"].get("reasoningEffort"), images, True)
        (record,) = [r for r in records if r["cli"] == "copilot" and r["prompt"] is not None]
        argv = record["argv"]
        effort = argv[argv.index("--reasoning-effort") + 1] if "--reasoning-effort" in argv else None
        return Seen(effort, [a["sha256"] for a in record["attachments"]], False)
    (record,) = [r for r in records if r["cli"] == "claude" and r["prompt"] is not None]
    requests = record["control_requests"]
    settings = [r for r in requests if r["subtype"] in ("apply_flag_settings", "set_max_thinking_tokens")]
    pooled = any(r["subtype"] == "initialize" for r in requests)
    return Seen(settings, [i["sha256"] for i in record["images"]], pooled)
