"""Chat chunk frames: the envelope encoded once per stream gives the bytes of encoding each whole chunk."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from server.converters import CallArgs, CallStart, TextOut
from server.pipeline.events import Completed, OutputEvent, ReasoningOut, Usage
from server.render.chat import DONE_FRAME, ChatFormat


def whole_chunk(fmt: ChatFormat, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
    """The chunk as a whole object, encoded in one go: the reference the frames must equal."""
    chunk: dict[str, Any] = {
        "id": fmt.id,
        "object": "chat.completion.chunk",
        "created": fmt.created,
        "model": fmt.model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if fmt.include_usage:
        chunk["usage"] = None
    return b"data: " + json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


texts = st.text(min_size=1)  # quotes, backslashes, control characters, any plane (no lone surrogates)


@given(text=texts, model=st.text(min_size=1), include_usage=st.booleans())
def test_text_frames_equal_the_whole_chunk(text: str, model: str, include_usage: bool) -> None:
    fmt = ChatFormat(model, include_usage=include_usage)
    assert fmt.frames(TextOut(text)) == (whole_chunk(fmt, {"content": text}), False)
    assert fmt.frames(ReasoningOut(text)) == (whole_chunk(fmt, {"reasoning_content": text}), False)
    assert fmt.opening() == whole_chunk(fmt, {"role": "assistant", "content": ""})


@given(name=texts, fragment=texts, legacy=st.booleans())
def test_call_frames_equal_the_whole_chunk(name: str, fragment: str, legacy: bool) -> None:
    fmt = ChatFormat("copilot/gpt-5.4", legacy_functions=legacy)
    start, _ = fmt.frames(CallStart(0, "call_1", name))
    args, _ = fmt.frames(CallArgs(0, fragment))
    if legacy:
        assert start == whole_chunk(fmt, {"function_call": {"name": name, "arguments": ""}})
        assert args == whole_chunk(fmt, {"function_call": {"arguments": fragment}})
    else:
        call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": ""}}
        assert start == whole_chunk(fmt, {"tool_calls": [call]})
        assert args == whole_chunk(fmt, {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})


def test_the_last_frames_end_the_stream() -> None:
    fmt = ChatFormat("claude/sonnet", include_usage=True)
    usage = Usage(10, 3)
    data, last = fmt.frames(Completed("stop", usage))
    assert last
    usage_chunk = {"id": fmt.id, "object": "chat.completion.chunk", "created": fmt.created, "model": fmt.model,
                   "choices": [], "usage": usage.as_openai()}
    expected = (whole_chunk(fmt, {}, "stop")
                + b"data: " + json.dumps(usage_chunk, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
                + DONE_FRAME)
    assert data == expected


def test_events_that_add_nothing_write_nothing() -> None:
    fmt = ChatFormat("copilot/gpt-5.4", legacy_functions=True)
    empty: list[OutputEvent] = [TextOut(""), ReasoningOut(""), CallArgs(0, ""), CallStart(1, "call_2", "second")]
    assert [fmt.frames(e) for e in empty] == [(b"", False)] * 4
