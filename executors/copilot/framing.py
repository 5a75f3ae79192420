"""LSP-style `Content-Length:` framing of JSON-RPC messages on a byte stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from executors.copilot.rpc import ConnectionLost, ProtocolViolation

MAX_HEADER_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


def encode_frame(message: dict[str, Any]) -> bytes:
    """One message as a frame: the header, a blank line, compact UTF-8 JSON."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_frame(
    reader: asyncio.StreamReader, label: str, max_header: int = MAX_HEADER_BYTES, max_body: int = MAX_BODY_BYTES
) -> bytes:
    """The next frame's body; raises ConnectionLost at EOF and ProtocolViolation on a bad frame."""
    length: int | None = None
    header_bytes = 0
    while True:
        try:
            line = await reader.readline()
        except ValueError as exc:  # a line over the stream's own limit
            raise ProtocolViolation(label, "a frame header line is too long") from exc
        if not line:
            raise ConnectionLost(label, f"the {label} server closed stdout")
        header_bytes += len(line)
        if header_bytes > max_header:
            too_long = f"a frame header is over {max_header} bytes"
            raise ProtocolViolation(label, too_long)
        if line in (b"\r\n", b"\n"):
            if length is None:
                raise ProtocolViolation(label, "a frame has no Content-Length header")
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError as exc:
                bad = f"bad Content-Length {value.strip()!r}"
                raise ProtocolViolation(label, bad) from exc
    if length < 0 or length > max_body:
        too_big = f"a frame of {length} bytes is over {max_body}"
        raise ProtocolViolation(label, too_big)
    return await reader.readexactly(length)
