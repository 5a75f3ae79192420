"""An incremental Server-Sent Events decoder (WHATWG rules, as openai-python reads them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: its `event:` name (default "message") and joined `data:` lines."""

    data: str
    event: str = "message"


class SseDecoder:
    """Feed decoded text in arbitrary pieces; get back the events each piece completes.

    Lines end with CR, LF or CRLF; `:` lines are comments; one space after `field:` is
    stripped; several `data:` lines are joined with newlines; a blank line dispatches.
    An event still pending at end of stream is dropped, as the spec and the SDKs do.
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._data: list[str] = []
        self._event = ""

    def feed(self, text: str) -> list[SseEvent]:
        """Consume `text` and return the events completed by it."""
        self._buffer += text
        events: list[SseEvent] = []
        while True:
            line, found = self._take_line()
            if not found:
                return events
            event = self._process_line(line)
            if event is not None:
                events.append(event)

    def _take_line(self) -> tuple[str, bool]:
        buffer = self._buffer
        cr, lf = buffer.find("\r"), buffer.find("\n")
        if cr == -1 and lf == -1:
            return "", False
        if cr != -1 and (lf == -1 or cr < lf):
            if cr == len(buffer) - 1:
                # A trailing CR may be the first half of CRLF: wait for more text.
                return "", False
            end = cr + 2 if buffer[cr + 1] == "\n" else cr + 1
            line = buffer[:cr]
        else:
            end = lf + 1
            line = buffer[:lf]
        self._buffer = buffer[end:]
        return line, True

    def _process_line(self, line: str) -> SseEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        return None

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent(data="\n".join(self._data), event=self._event or "message")
        self._data = []
        self._event = ""
        return event
