"""The upstream package's pure parts: SSE decoding, error bodies, chunks, request shapes, fallback choices."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from executors.events import Finished, ReasoningDelta, TextDelta, ToolCallDelta, UsageReport
from executors.request import BackendRequest, Message, ToolCallRecord
from executors.upstream.chunks import ChunkReader
from executors.upstream.errors import UpstreamBadResponse, UpstreamRejected, read_error_body
from executors.upstream.fallbacks import FallbackMemory, in_effect, next_shape, stated_limit
from executors.upstream.sse import MAX_EVENT_BYTES, SseDecoder, SseTooLarge
from executors.upstream.wire import Shape, chat_body
from server.pipeline.tool_protocol import DialectToolProtocol

SAMPLE = (b'data: {"a": 1}\n\n: ping - 2026-11-30\n\nevent: message\nid: 7\ndata: first\r\ndata:second\r\n\r\n'
          b'data: \xc3\xa9t\xc3\xa9\r\rretry: 10\ndata: [DONE]\n\n')
EXPECTED = ['{"a": 1}', "first\nsecond", "été", "[DONE]"]


def decode_in_pieces(data: bytes, cuts: list[int]) -> list[str]:
    decoder = SseDecoder()
    out: list[str] = []
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        out += decoder.feed(data[start:end])
    return out


def test_sse_every_split_point_gives_the_same_events() -> None:
    assert decode_in_pieces(SAMPLE, []) == EXPECTED
    for cut in range(1, len(SAMPLE)):
        assert decode_in_pieces(SAMPLE, [cut]) == EXPECTED, cut
    assert decode_in_pieces(SAMPLE, list(range(1, len(SAMPLE)))) == EXPECTED  # byte by byte
    rng = random.Random(7)
    for _ in range(300):
        cuts = sorted(rng.sample(range(1, len(SAMPLE)), rng.randint(1, 12)))
        assert decode_in_pieces(SAMPLE, cuts) == EXPECTED


def test_sse_long_event_in_small_pieces_and_the_size_limit() -> None:
    payload = "x" * 300_000
    decoder = SseDecoder()
    data = f"data: {payload}\n\n".encode()
    events = [e for i in range(0, len(data), 1000) for e in decoder.feed(data[i : i + 1000])]
    assert events == [payload] and not decoder.pending()
    decoder.feed(b"data: unfinished")
    assert decoder.pending()
    with pytest.raises(SseTooLarge):
        SseDecoder().feed(b"data: " + b"y" * (MAX_EVENT_BYTES + 1))


@pytest.mark.parametrize(("raw", "message", "code", "param"), [
    (b'{"error": {"message": "bad", "type": "BadRequestError", "param": "max_tokens", "code": 400}}', "bad", None, "max_tokens"),
    (b'{"error": {"message": "no key", "type": "invalid_request", "code": "invalid_api_key"}}', "no key", "invalid_api_key", None),
    (b'{"error": "Unauthorized"}', "Unauthorized", None, None),
    (b'{"detail": "Invalid API key"}', "Invalid API key", None, None),
    (b'{"detail": [{"type": "extra_forbidden", "loc": ["body", "tools"], "msg": "Extra inputs are not permitted"}]}',
     "body.tools: Extra inputs are not permitted", None, "tools"),
    (b'{"message": "plain"}', "plain", None, None),
    (b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>", None, None),
    (b'{"something": "else"}', "the upstream answered HTTP 418", None, None),
    (b"", "the upstream answered HTTP 418", None, None),
])
def test_error_bodies_of_every_shape(raw: bytes, message: str, code: str | None, param: str | None) -> None:
    found = read_error_body(raw, 418)
    assert (found.message, found.code, found.param) == (message, code, param)


def test_error_messages_are_clipped() -> None:
    found = read_error_body(json.dumps({"detail": "t" * 10_000}).encode(), 500)
    assert len(found.message) == 2001 and found.message.endswith("…")


def test_chunks_become_events() -> None:
    reader = ChunkReader("up")
    chunk = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "reasoning_content": "hmm"}}]}
    assert reader.read(chunk) == [ReasoningDelta("hmm")]
    assert reader.read({"choices": [{"delta": {"reasoning": "ollama style", "content": "Hi"}}]}) == [
        ReasoningDelta("ollama style"), TextDelta("Hi")]
    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
    mirrored = {"role": None, "content": None, "function_call": {"name": "f", "arguments": "{}"}, "tool_calls": [call]}
    assert reader.read({"choices": [{"index": 0, "delta": mirrored}]}) == [ToolCallDelta(0, '{"x": 1}', "c1", "f")]
    legacy = {"choices": [{"index": 0, "delta": {"function_call": {"name": "g", "arguments": "{\"y\""}}}]}
    assert reader.read(legacy) == [ToolCallDelta(0, '{"y"', None, "g")]
    assert reader.read({"choices": [{"index": 1, "delta": {"content": "second choice"}}]}) == []
    assert reader.read({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}) == []
    usage = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12, "prompt_tokens_details": {"cached_tokens": 2}}
    assert reader.read({"choices": [], "usage": usage}) == []
    assert reader.end() == [UsageReport(5, 7, 2), Finished("length")]


def test_chunk_errors() -> None:
    reader = ChunkReader("up")
    with pytest.raises(UpstreamBadResponse):
        reader.read(["not", "an", "object"])
    with pytest.raises(UpstreamRejected) as caught:
        reader.read({"error": {"message": "CUDA out of memory", "type": "InternalServerError", "code": 500}})
    assert caught.value.status == 500 and caught.value.message == "CUDA out of memory"
    assert ChunkReader("up").end() == []


WEATHER = ({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},)


def request(*messages: Message, tools: tuple[Any, ...] = WEATHER, tool_choice: Any = "auto", **params: Any) -> BackendRequest:
    return BackendRequest("m", messages, tools=tools, tool_choice=tool_choice, tool_protocol=DialectToolProtocol("hermes"),
                          params=params)


def rejected(status: int, message: str) -> UpstreamRejected:
    return UpstreamRejected("up", status, read_error_body(json.dumps({"error": message}).encode(), status))


HISTORY = (Message("user", "hi"), Message("assistant", "", tool_calls=(ToolCallRecord("c1", "get_weather", '{"city": "Oslo"}'),)),
           Message("tool", "3C", tool_call_id="c1"))


@pytest.mark.parametrize(("message", "limit"), [
    (("'max_tokens' or 'max_completion_tokens' is too large: 9000. This model's maximum context length is 4096 "
      "tokens and your request has 30 input tokens (9000 > 4096 - 30)."), 4066),
    ("max_tokens is too large: 9000. This model supports at most 4096 completion tokens, whereas you provided 9000.", 4096),
    ("max_tokens must be less than or equal to 2048", 2048),
    ("This model's maximum context length is 8192 tokens and your request has 192 input tokens", 8000),
    ("max_tokens is too large", None),
])
def test_stated_limits(message: str, limit: int | None) -> None:
    assert stated_limit(message) == limit


def test_next_shape_follows_the_message() -> None:
    plain = request(Message("user", "hi"))
    assert next_shape(rejected(400, "does not support tools"), plain, Shape()) == (Shape(tools="functions"), "tools_as_functions")
    assert next_shape(rejected(400, "Unrecognized request argument supplied: functions"), plain,
                      Shape(tools="functions")) == (Shape(tools="prompt"), "tools_in_prompt")
    assert next_shape(rejected(400, "functions"), plain, Shape(tools="prompt")) is None
    # A history problem is fixed before the tools are touched; a prompt with no tool turns has none.
    with_history = request(*HISTORY)
    assert next_shape(rejected(500, ROLES), with_history, Shape()) == (Shape(history="text"), "history_as_text")
    assert next_shape(rejected(500, ROLES), plain, Shape()) is None
    # No hint, another status, or nothing to change: the error goes to the client after one try.
    assert next_shape(rejected(400, "temperature must be at most 2"), with_history, Shape()) is None
    assert next_shape(rejected(401, "tools"), plain, Shape()) is None
    assert next_shape(rejected(400, "tools"), request(Message("user", "hi"), tools=()), Shape()) is None
    too_many = request(Message("user", "hi"), max_tokens=9000)
    limit = "max_tokens is too large: at most 4096"
    assert next_shape(rejected(400, limit), too_many, Shape()) == (Shape(cap=4096), "max_tokens_clamped")
    assert next_shape(rejected(400, limit), too_many, Shape(cap=4096)) is None  # already there: no loop


ROLES = "Conversation roles must alternate user/assistant/user/assistant/..."


def test_memory_keeps_the_most_cautious_shape_per_model() -> None:
    memory = FallbackMemory(cap=8192)
    assert memory.shape_for("a") == Shape(cap=8192)
    memory.remember("a", Shape(tools="functions", cap=8192))
    memory.remember("a", Shape(history="text", cap=4096))  # learned by another request meanwhile
    memory.remember("a", Shape(tools="native", cap=8192))
    assert memory.shape_for("a") == Shape(tools="functions", history="text", cap=4096)
    assert memory.shape_for("b") == Shape(cap=8192)
    memory.forget()
    assert memory.shape_for("a") == Shape(cap=8192)


def test_in_effect_names_only_what_changes_this_request() -> None:
    shape = Shape(tools="prompt", history="text", cap=100)
    assert in_effect(request(Message("user", "hi"), max_tokens=50), shape) == ("tools_in_prompt",)
    assert in_effect(request(*HISTORY, tools=(), max_tokens=500), shape) == ("max_tokens_clamped", "history_as_text")


def test_chat_body_shapes() -> None:
    req = request(Message("developer", "Be brief."), *HISTORY, tool_choice="auto", max_tokens=500, temperature=0)
    native = chat_body(req, Shape(cap=100), "max_tokens")
    assert native["messages"][0] == {"role": "system", "content": "Be brief."}
    assert native["max_tokens"] == 100 and native["temperature"] == 0 and native["tools"] == [dict(WEATHER[0])]
    assert "tool_choice" not in native and "parallel_tool_calls" not in native
    assert native["stream"] is True and native["stream_options"] == {"include_usage": True}
    functions = chat_body(req, Shape(tools="functions"), "max_completion_tokens")
    assert functions["functions"] == [WEATHER[0]["function"]] and functions["max_completion_tokens"] == 500
    assert "function_call" not in functions and "tools" not in functions
    prompt = chat_body(req, Shape(tools="prompt", history="text"), "max_tokens")
    assert "tools" not in prompt and "functions" not in prompt
    assert [m["role"] for m in prompt["messages"]] == ["system", "user", "assistant", "user"]
    assert prompt["messages"][0]["content"].startswith("Be brief.\n\n") and "get_weather" in prompt["messages"][0]["content"]
    assert prompt["messages"][2]["content"] == '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'
    assert prompt["messages"][3]["content"] == "[Tool result: get_weather (call id c1)]\n3C"
    none = chat_body(request(Message("user", "hi"), tool_choice="none"), Shape(tools="prompt"), "max_tokens")
    assert none["messages"] == [{"role": "user", "content": "hi"}]  # tools off for this answer: no protocol


def test_legacy_function_turns_get_matching_ids() -> None:
    req = request(Message("assistant", "", tool_calls=(ToolCallRecord("", "f", "{}"),)), Message("function", "ok", name="f"))
    sent = chat_body(req, Shape(), "max_tokens")["messages"]
    assert sent[0]["tool_calls"][0]["id"] == sent[1]["tool_call_id"] == "call_f"
    assert sent[1] == {"role": "tool", "tool_call_id": "call_f", "content": "ok", "name": "f"}
