"""Server-sent event streams: strict framing, and the per-endpoint rules for their frames."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.openapi.schema import Violation, response_event_schemas, short, validate

TERMINAL_RESPONSE_EVENTS = frozenset({"response.completed", "response.failed", "response.incomplete", "error"})


@dataclass(frozen=True, slots=True)
class Frame:
    """One dispatched event: its `event:` name (None without one) and its joined `data:` lines."""

    number: int  # 0-based, counting dispatched events only
    event: str | None
    data: str


StreamCheck = Callable[[list[Frame], bool, str], list[Violation]]


def parse(text: str, complete: bool) -> tuple[list[Frame], list[str]]:
    """The frames of an SSE body and the framing problems found (WHATWG rules, strictly applied).

    A frame is dispatched by a blank line. In a `complete` body a last event without that blank
    line is a problem: openai-python drops it. In an incomplete one it is simply not read yet.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    *whole, tail = lines  # `tail` follows the last newline: empty when the body ends with one
    frames: list[Frame] = []
    problems: list[str] = []
    data: list[str] = []
    event: str | None = None
    for number, line in enumerate(whole, 1):
        if line == "":
            if data:
                frames.append(Frame(len(frames), event, "\n".join(data)))
            elif event is not None:
                problems.append(f"line {number}: an `event:` without `data:` is never dispatched")
            data, event = [], None
        elif line.startswith(":"):
            continue  # a comment: keep-alive
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                event = value
            elif field not in ("id", "retry"):
                problems.append(f"line {number}: not an SSE field: {short(line, 80)}")
    if complete and (data or event is not None or tail):
        problems.append("the last event is not ended by a blank line (clients drop it)")
    return frames, problems


def _decode(frame: Frame, where: str, schema: str) -> tuple[Any, list[Violation]]:
    try:
        return json.loads(frame.data), []
    except ValueError as exc:
        return None, [Violation(where, schema, "$", f"data is not JSON: {exc}", short(frame.data))]


def _chunks(chunk_schema: str) -> StreamCheck:
    """Chat and legacy completions: chunks, perhaps an error after the stream began, `[DONE]` last."""

    def check(frames: list[Frame], complete: bool, where: str) -> list[Violation]:
        found: list[Violation] = []
        for frame in frames:
            at = f"{where} frame {frame.number}"
            if frame.data == "[DONE]":
                if frame.number != len(frames) - 1:
                    found.append(Violation(at, "SSE", "$", "frames follow `data: [DONE]`"))
                continue
            body, bad = _decode(frame, at, chunk_schema)
            found += bad
            if bad:
                continue
            if isinstance(body, dict) and "error" in body:
                if frame.number == 0:
                    found.append(Violation(at, "ErrorResponse", "$", "an error before any chunk must be an HTTP error status, not an SSE frame"))
                found += validate("ErrorResponse", body, at)
            else:
                found += validate(chunk_schema, body, at)
        if complete and (not frames or frames[-1].data != "[DONE]"):
            found.append(Violation(where, "SSE", "$", "the stream does not end with `data: [DONE]`"))
        return found

    return check


chat_stream = _chunks("CreateChatCompletionStreamResponse")
completions_stream = _chunks("X-CreateCompletionStreamChunk")


def responses_stream(frames: list[Frame], complete: bool, where: str) -> list[Violation]:
    """Responses API: named events, each valid as the member its `type` names, numbered from 0."""
    members = response_event_schemas()
    found: list[Violation] = []
    last_sequence = -1
    last_type = None
    for frame in frames:
        at = f"{where} frame {frame.number}"
        if frame.data == "[DONE]":
            found.append(Violation(at, "SSE", "$", "Responses streams have no `data: [DONE]`; they end after the terminal event"))
            continue
        body, bad = _decode(frame, at, "ResponseStreamEvent")
        found += bad
        if bad:
            continue
        kind = body.get("type") if isinstance(body, dict) else None
        last_type = kind
        if frame.event != kind:
            found.append(Violation(at, "SSE", "$.type", f"the `event:` line says {frame.event!r} but the data's type is {kind!r}"))
        if kind not in members:
            found.append(Violation(at, "ResponseStreamEvent", "$.type", "not a Responses stream event type", short(kind)))
            continue
        found += validate(members[kind], body, at)
        sequence = body.get("sequence_number")
        if isinstance(sequence, int):
            if last_sequence == -1 and sequence != 0:
                found.append(Violation(at, members[kind], "$.sequence_number", "the first event must be number 0", short(sequence)))
            elif sequence <= last_sequence:
                found.append(Violation(at, members[kind], "$.sequence_number", f"not greater than the previous {last_sequence}", short(sequence)))
            last_sequence = sequence
    if complete and last_type not in TERMINAL_RESPONSE_EVENTS:
        found.append(Violation(where, "SSE", "$", f"the stream ends after {last_type!r}, not a terminal event ({', '.join(sorted(TERMINAL_RESPONSE_EVENTS))})"))
    return found
