"""Server-sent events from an upstream, decoded as the bytes arrive (WHATWG rules, `data` only)."""

from __future__ import annotations

MAX_EVENT_BYTES = 16 * 1024 * 1024  # one event (a whole tool call in one chunk can be large)


class SseTooLarge(ValueError):
    """An event grew past MAX_EVENT_BYTES without ending."""


class SseDecoder:
    """Bytes in, the `data` of each complete event out.

    Lines end in LF, CRLF or CR; comment lines (`: ping`) and other fields (`event:`, `id:`)
    are skipped; several `data:` lines join with a newline; a blank line ends an event.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer known to hold no line end (keeps long lines linear)
        self._data: list[str] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[str]:
        """The events the new bytes complete."""
        self._buffer += chunk
        events: list[str] = []
        start = 0
        while True:
            end = _line_end(self._buffer, start, max(start, self._scanned))
            if end is None:
                break
            event = self._line(self._buffer[start : end[0]].decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
            start = end[1]
        del self._buffer[:start]
        self._scanned = max(0, len(self._buffer) - 1)  # a trailing CR may still become CRLF
        if len(self._buffer) + self._size > MAX_EVENT_BYTES:
            raise SseTooLarge(f"an upstream event is larger than {MAX_EVENT_BYTES} bytes")
        return events

    def pending(self) -> bool:
        """True when an event (or a line) was begun but not ended."""
        return bool(self._buffer or self._data)

    def _line(self, line: str) -> str | None:
        if not line:
            if not self._data:
                return None
            event, self._data, self._size = "\n".join(self._data), [], 0
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            value = value.removeprefix(" ")
            self._data.append(value)
            self._size += len(value)
        return None


def _line_end(buffer: bytearray, start: int, scan_from: int) -> tuple[int, int] | None:
    """Where the line at `start` ends and the next begins; None until a terminator is seen.

    A CR at the very end may be the first half of a CRLF: wait for the next byte.
    """
    lf = buffer.find(b"\n", scan_from)
    cr = buffer.find(b"\r", scan_from, lf if lf >= 0 else len(buffer))
    if cr >= 0:
        if cr + 1 == len(buffer):
            return None
        return cr, cr + 2 if buffer[cr + 1] == 0x0A else cr + 1
    return (lf, lf + 1) if lf >= 0 else None
