"""LSP-style `Content-Length:` framing of JSON-RPC messages on a byte stream."""

from __future__ import annotations

import json
from typing import Any

import structlog

from executors.copilot.rpc import ConnectionLost, ProtocolViolation
from executors.json_object import json_object

MAX_HEADER_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
_USUAL_HEADER = b"Content-Length: "
_USUAL_HEADER_MAX = len(_USUAL_HEADER) + 24  # digits and the blank line; anything else is parsed line by line
# Session events of types nobody reads are told by their first bytes and never decoded (the
# CLI writes compact JSON in this key order, and the session id is a UUID of ours); any other
# layout is decoded as usual.
_SESSION_EVENT = b'{"jsonrpc":"2.0","method":"session.event","params":{"sessionId":"'
_EVENT_TYPE = b'","event":{"type":"'
_EVENT_TYPE_AT = len(_SESSION_EVENT) + 36

log = structlog.get_logger(__name__)


def decode_message(body: bytes, label: str, reads: frozenset[bytes] | None = None) -> dict[str, Any] | None:
    """A frame's JSON object; None for a session event whose type is not in `reads` (when given), or
    for a frame that is not a JSON object (logged)."""
    if reads is not None and body.startswith(_EVENT_TYPE, _EVENT_TYPE_AT) and body.startswith(_SESSION_EVENT):
        start = _EVENT_TYPE_AT + len(_EVENT_TYPE)
        if body[start:body.find(b'"', start)] not in reads:
            return None
    message = json_object(body)
    if message is None:  # the framing is intact, so the stream stays usable; the frame itself is lost
        log.warning("jsonrpc_bad_frame", label=label, size=len(body))
    return message


def encode_frame(message: dict[str, Any]) -> bytes:
    """One message as a frame: the header, a blank line, compact UTF-8 JSON."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class FrameBuffer:
    """Cuts the bytes read from a stream into frame bodies, however the reads split them.

    Reading in large chunks and cutting frames here costs one await per read, not three per
    frame (two header lines and the body): a busy server sends many frames per read.
    """

    def __init__(self, label: str, max_header: int = MAX_HEADER_BYTES, max_body: int = MAX_BODY_BYTES) -> None:
        self._label = label
        self._max_header = max_header
        self._max_body = max_body
        self._buf = bytearray()
        self._length: int | None = None  # the current frame's body length, once its header is read
        self._header_bytes = 0
        self._content_length: int | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """The bodies of the frames `data` completes (in order); raises ProtocolViolation on a bad frame."""
        buf = self._buf
        buf += data
        bodies: list[bytes] = []
        pos = 0
        while True:
            if self._length is None:
                if not self._header_bytes and buf.startswith(_USUAL_HEADER, pos):  # the one header the CLI sends
                    end = buf.find(b"\r\n\r\n", pos + len(_USUAL_HEADER), pos + _USUAL_HEADER_MAX)
                    if end > 0 and (digits := buf[pos + len(_USUAL_HEADER):end]).isdigit():
                        self._length = self._checked(int(digits))
                        pos = end + 4
                        continue
                end = buf.find(b"\n", pos)
                if end < 0:
                    if self._header_bytes + len(buf) - pos > self._max_header:
                        raise ProtocolViolation(self._label, f"a frame header is over {self._max_header} bytes")
                    break
                self._header_line(bytes(buf[pos:end + 1]))
                pos = end + 1
                continue
            if len(buf) - pos < self._length:
                break
            bodies.append(bytes(buf[pos:pos + self._length]))
            pos += self._length
            self._length = None
            self._header_bytes = 0
            self._content_length = None
        del buf[:pos]
        return bodies

    def eof(self) -> ConnectionLost:
        """The error for the end of the stream: a clean close, or one in the middle of a frame."""
        if self._buf or self._length is not None or self._header_bytes:
            return ConnectionLost(self._label, f"the {self._label} server stopped mid-frame")
        return ConnectionLost(self._label, f"the {self._label} server closed stdout")

    def _checked(self, length: int) -> int:
        if length < 0 or length > self._max_body:
            raise ProtocolViolation(self._label, f"a frame of {length} bytes is over {self._max_body}")
        return length

    def _header_line(self, line: bytes) -> None:
        self._header_bytes += len(line)
        if self._header_bytes > self._max_header:
            raise ProtocolViolation(self._label, f"a frame header is over {self._max_header} bytes")
        if line in (b"\r\n", b"\n"):
            if self._content_length is None:
                raise ProtocolViolation(self._label, "a frame has no Content-Length header")
            self._length = self._checked(self._content_length)
            return
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                self._content_length = int(value.strip())
            except ValueError as exc:
                raise ProtocolViolation(self._label, f"bad Content-Length {value.strip()!r}") from exc
