"""The schema validator: its conversion of the document, good bodies, and known-bad ones."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.openapi.convert import to_json_schema
from tests.openapi.validator import check_http, document, schemas, validate

CHAT = "/v1/chat/completions"
USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def completion(**changes: Any) -> dict[str, Any]:
    body = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "copilot/gpt-5.4",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": USAGE,
    }
    return {**body, **changes}


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **changes: Any) -> dict[str, Any]:
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
    return {**body, **changes}


def response(**changes: Any) -> dict[str, Any]:
    body = {
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "error": None,
        "incomplete_details": None, "instructions": None, "model": "m", "tools": [],
        "parallel_tool_calls": True, "metadata": {}, "tool_choice": "auto", "temperature": 1.0, "top_p": 1.0,
        "output": [
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "Hi", "annotations": [], "logprobs": []}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}", "status": "completed"},
        ],
        "usage": {"input_tokens": 3, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}, "output_tokens": 2,
                  "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 5},
    }
    return {**body, **changes}


def sse(*payloads: Any, events: bool = False) -> bytes:
    out = []
    for payload in payloads:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        name = f"event: {payload['type']}\n" if events and isinstance(payload, dict) else ""
        out.append(f"{name}data: {data}\n\n")
    return "".join(out).encode()


def text_turn() -> list[dict[str, Any]]:
    """A Responses text turn as OpenAI streams it."""
    item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    started = response(status="in_progress", output=[], usage=None)
    events = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": part},
        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Hi", "logprobs": []},
        {"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": "Hi", "logprobs": []},
        {"type": "response.completed", "response": response()},
    ]
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


def messages(found: list[Any]) -> list[str]:
    return [str(v) for v in found]


# --- conversion -----------------------------------------------------------------------------


def test_nullable_becomes_a_type_list_an_enum_member_or_an_any_of() -> None:
    converted = to_json_schema({
        "A": {"type": "string", "nullable": True, "description": "dropped"},
        "B": {"type": "string", "enum": ["x"], "nullable": True},
        "C": {"$ref": "#/components/schemas/A", "nullable": True},
        "D": {"allOf": [{"$ref": "#/components/schemas/A"}, {"nullable": True}]},
        "E": {"type": "string", "nullable": False},
    })
    assert converted["A"] == {"type": ["string", "null"]}
    assert converted["B"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert converted["C"] == {"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]}
    assert converted["D"] == {"anyOf": [{"allOf": [{"$ref": "#/components/schemas/A"}]}, {"type": "null"}]}
    assert converted["E"] == {"type": "string"}


def test_one_of_bounds_and_recursion_become_2020_12() -> None:
    converted = to_json_schema({
        "U": {"oneOf": [{"type": "string"}, {"type": "integer"}], "discriminator": {"propertyName": "type"}},
        "N": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 2, "exclusiveMaximum": False},
        "R": {"$recursiveAnchor": True, "type": "object", "properties": {"more": {"items": {"$recursiveRef": "#"}}}},
        "X": {"type": "object", "example": {"nullable": True}, "x-oaiMeta": {}, "default": {"oneOf": 1}},
    })
    assert converted["U"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert converted["N"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 2}
    assert converted["R"] == {"type": "object", "properties": {"more": {"items": {"$ref": "#/components/schemas/R"}}}}
    assert converted["X"] == {"type": "object", "default": {"oneOf": 1}}  # data is left alone


def test_whole_document_converts_to_valid_2020_12_without_openapi_3_0_leftovers() -> None:
    leftovers = ("nullable", "oneOf", "discriminator", "$recursiveRef", "$recursiveAnchor")
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            found.extend(f"{where}/{k}" for k in leftovers if k in node)
            found.extend(f"{where}/{k}" for k in ("exclusiveMinimum", "exclusiveMaximum") if isinstance(node.get(k), bool))
            for key, value in node.items():
                if key not in ("enum", "const", "default"):
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{where}/{n}")

    converted = schemas()
    walk(converted, "#")
    assert found == []
    Draft202012Validator.check_schema({"$defs": converted})
    assert document()["openapi"].startswith("3.1")


def test_document_examples_of_the_shapes_we_send_validate() -> None:
    raw = document()["components"]["schemas"]
    for name in ("CreateChatCompletionResponse", "Model", "ResponseItemList", "CreateCompletionResponse",
                 "ResponseCreatedEvent", "ResponseOutputItemAddedEvent", "ResponseFunctionCallArgumentsDoneEvent"):
        assert validate(name, json.loads(raw[name]["x-oaiMeta"]["example"])) == [], name


# --- bodies ---------------------------------------------------------------------------------


def test_good_bodies_pass() -> None:
    tool_call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}
    calling = completion(choices=[{"index": 0, "logprobs": None, "finish_reason": "tool_calls",
                                   "message": {"role": "assistant", "content": None, "refusal": None, "tool_calls": [tool_call]}}])
    assert validate("CreateChatCompletionResponse", completion(system_fingerprint="fp_1")) == []
    assert validate("CreateChatCompletionResponse", calling) == []
    assert validate("CreateChatCompletionStreamResponse", chunk({"role": "assistant", "content": ""})) == []
    assert validate("CreateChatCompletionStreamResponse", chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]})) == []
    assert validate("CreateChatCompletionStreamResponse", chunk({}, "stop", usage=None)) == []
    assert validate("CreateChatCompletionStreamResponse", {**chunk({}), "choices": [], "usage": USAGE}) == []
    assert validate("ListModelsResponse", {"object": "list", "data": [{"id": "a/b", "object": "model", "created": 0, "owned_by": "x"}]}) == []
    assert validate("ErrorResponse", {"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}}) == []
    assert validate("Response", response()) == []
    assert validate("CreateEmbeddingResponse", {"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}],
                                                "usage": {"prompt_tokens": 1, "total_tokens": 1}}) == []


def test_relaxed_nullables_and_the_derived_completion_chunk() -> None:
    assert validate("Response", response(usage=None, user=None)) == []
    embedding = {"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, "embedding": "AAAAPw=="}],
                 "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    assert validate("CreateEmbeddingResponse", embedding) == []  # base64, as the SDKs ask by default
    embedding["data"][0]["embedding"] = [[0.5]]
    assert validate("CreateEmbeddingResponse", embedding) != []  # per-token vectors are not OpenAI's
    legacy = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "text": "Hi", "logprobs": None, "finish_reason": None}]}
    assert validate("X-CreateCompletionStreamChunk", legacy) == []
    assert messages(validate("CreateCompletionResponse", legacy)) == [
        'body: CreateCompletionResponse $.choices[0].finish_reason: expected "string", got null (value: null)',
        'body: CreateCompletionResponse $.choices[0].finish_reason: expected one of ["stop","length","content_filter"] (value: null)',
    ]


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        ("CreateChatCompletionResponse", completion(system_fingerprint=None),
         'CreateChatCompletionResponse $.system_fingerprint: expected "string", got null (value: null)'),
        ("CreateChatCompletionStreamResponse", chunk({"tool_calls": [{"id": "call_1", "function": {"arguments": ""}}]}),
         "$.choices[0].delta.tool_calls[0]: 'index' is a required property"),
        ("Response", {k: v for k, v in response().items() if k != "output"}, "Response $: 'output' is a required property"),
        ("Response", response(output=[{"type": "function_call", "call_id": "c", "name": "f", "arguments": {}}]),
         '$.output[0].arguments: expected "string", got object (value: {})'),
        ("Response", response(usage={"input_tokens": 1}), "$.usage: 'output_tokens' is a required property"),
        ("ErrorResponse", {"error": {"message": "m", "type": "t"}}, "$.error: 'param' is a required property"),
        ("CreateChatCompletionResponse", completion(choices=[{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": None}]),
         "$.choices[0]: 'logprobs' is a required property"),
    ],
)
def test_known_bad_bodies_fail_naming_the_path(name: str, body: Any, expected: str) -> None:
    found = messages(validate(name, body))
    assert any(expected in line for line in found), found


# --- HTTP and SSE ---------------------------------------------------------------------------


def test_routes_it_does_not_know_are_skipped_and_errors_are_checked_everywhere() -> None:
    assert check_http("GET", "/health", 200, "application/json", b'{"status": "ok"}') == []
    assert check_http("GET", "/api/tags", 200, "text/plain", b"x") == []
    assert check_http("OPTIONS", CHAT, 200, "", b"") == []
    fastapi_style = check_http("POST", CHAT, 422, "application/json", b'{"detail": "bad"}')
    assert messages(fastapi_style) == [f"POST {CHAT} 422: ErrorResponse $: 'error' is a required property (value: {{\"detail\":\"bad\"}})"]
    plain = messages(check_http("GET", "/v1/models/nope", 404, "text/plain; charset=utf-8", b"404: Not Found"))
    assert plain == ["GET /v1/models/nope 404: ErrorResponse $: expected an application/json body, got 'text/plain' (value: \"404: Not Found\")"]


def test_json_routes_use_their_schema() -> None:
    model = {"id": "copilot/gpt-5.4", "object": "model", "created": 0, "owned_by": "github"}
    assert check_http("GET", "/v1/models/copilot/gpt-5.4", 200, "application/json", json.dumps(model).encode()) == []
    assert check_http("GET", "/models", 200, "application/json", json.dumps({"object": "list", "data": [model]}).encode()) == []
    bad = check_http("GET", "/v1/models", 200, "application/json", json.dumps(model).encode())
    assert "ListModelsResponse $: 'data' is a required property" in messages(bad)[0]
    deleted = {"id": "resp_1", "object": "response.deleted", "deleted": True}
    assert check_http("DELETE", "/v1/responses/resp_1", 200, "application/json", json.dumps(deleted).encode()) == []
    assert check_http("GET", "/v1/responses/resp_1", 200, "application/json", json.dumps(response()).encode()) == []
    assert messages(check_http("POST", CHAT, 200, "application/json", b"{not json"))[0].startswith(f"POST {CHAT} 200: CreateChatCompletionResponse $: not JSON")


def test_chat_stream_frames_done_and_blank_lines() -> None:
    good = sse(chunk({"role": "assistant", "content": ""}), chunk({"content": "Hi"}), chunk({}, "stop"), "[DONE]")
    assert check_http("POST", CHAT, 200, "text/event-stream; charset=utf-8", good) == []
    assert check_http("POST", CHAT, 200, "text/event-stream", b": keep-alive\n\n" + good) == []
    failed = sse(chunk({"role": "assistant"}), {"error": {"message": "timeout", "type": "timeout", "param": None, "code": "timeout"}}, "[DONE]")
    assert check_http("POST", CHAT, 200, "text/event-stream", failed) == []

    assert messages(check_http("POST", CHAT, 200, "text/event-stream", good[: -len("data: [DONE]\n\n")])) == [
        f"POST {CHAT} 200: SSE $: the stream does not end with `data: [DONE]`"]
    unterminated = messages(check_http("POST", CHAT, 200, "text/event-stream", good[:-1]))
    assert unterminated == [f"POST {CHAT} 200: SSE $: the last event is not ended by a blank line (clients drop it)",
                            f"POST {CHAT} 200: SSE $: the stream does not end with `data: [DONE]`"]
    early_error = messages(check_http("POST", CHAT, 200, "text/event-stream", sse({"error": {"message": "m", "type": "t", "param": None, "code": None}}, "[DONE]")))
    assert early_error == [f"POST {CHAT} 200 frame 0: ErrorResponse $: an error before any chunk must be an HTTP error status, not an SSE frame"]
    null_fp = messages(check_http("POST", CHAT, 200, "text/event-stream", sse(chunk({"content": "x"}, system_fingerprint=None), "[DONE]")))
    assert null_fp == [f'POST {CHAT} 200 frame 0: CreateChatCompletionStreamResponse $.system_fingerprint: expected "string", got null (value: null)']
    after_done = messages(check_http("POST", CHAT, 200, "text/event-stream", sse("[DONE]", chunk({}))))
    assert f"POST {CHAT} 200 frame 0: SSE $: frames follow `data: [DONE]`" in after_done


def test_a_stream_read_in_part_is_checked_frame_by_frame_but_not_for_its_end() -> None:
    partial = sse(chunk({"content": "Hi"})) + b"data: {\"id\": \"chatcm"
    assert check_http("POST", CHAT, 200, "text/event-stream", partial, complete=False) == []
    bad = sse(chunk({"tool_calls": [{"function": {"arguments": "{"}}]}))
    assert len(check_http("POST", CHAT, 200, "text/event-stream", bad, complete=False)) == 1
    assert check_http("POST", CHAT, 200, "application/json", b'{"id": ', complete=False) == []


def test_completions_stream_uses_the_derived_chunk() -> None:
    base = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m"}
    frames = sse({**base, "choices": [{"index": 0, "text": "Hi", "logprobs": None, "finish_reason": None}]},
                 {**base, "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}]}, "[DONE]")
    assert check_http("POST", "/v1/completions", 200, "text/event-stream", frames) == []


def test_responses_stream_events_are_checked_by_type_and_sequence() -> None:
    turn = text_turn()
    assert check_http("POST", "/v1/responses", 200, "text/event-stream", sse(*turn, events=True)) == []

    swapped = copy.deepcopy(turn)
    swapped[3]["sequence_number"], swapped[4]["sequence_number"] = 4, 3
    found = messages(check_http("POST", "/v1/responses", 200, "text/event-stream", sse(*swapped, events=True)))
    assert found == ["POST /v1/responses 200 frame 4: ResponseTextDeltaEvent $.sequence_number: not greater than the previous 4 (value: 3)"]

    late_start = [{**event, "sequence_number": event["sequence_number"] + 1} for event in turn]
    found = messages(check_http("POST", "/v1/responses", 200, "text/event-stream", sse(*late_start, events=True)))
    assert found == ["POST /v1/responses 200 frame 0: ResponseCreatedEvent $.sequence_number: the first event must be number 0 (value: 1)"]

    no_logprobs = copy.deepcopy(turn)
    del no_logprobs[4]["logprobs"]
    found = messages(check_http("POST", "/v1/responses", 200, "text/event-stream", sse(*no_logprobs, events=True)))
    assert found == [("POST /v1/responses 200 frame 4: ResponseTextDeltaEvent $: 'logprobs' is a required property "
                      '(value: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","sequence_number":4})')]


def test_responses_stream_framing_rules() -> None:
    turn = text_turn()
    unnamed = messages(check_http("POST", "/v1/responses", 200, "text/event-stream", sse(*turn)))
    assert len(unnamed) == len(turn) and "the `event:` line says None but the data's type is 'response.created'" in unnamed[0]
    with_done = messages(check_http("POST", "/v1/responses", 200, "text/event-stream", sse(*turn, events=True) + b"data: [DONE]\n\n"))
    assert with_done == ["POST /v1/responses 200 frame 7: SSE $: Responses streams have no `data: [DONE]`; they end after the terminal event"]
    cut = messages(check_http("POST", "/v1/responses", 200, "text/event-stream", sse(*turn[:-1], events=True)))
    assert cut == [("POST /v1/responses 200: SSE $: the stream ends after 'response.output_text.done', not a terminal event "
                    "(error, response.completed, response.failed, response.incomplete)")]
    unknown = messages(check_http("POST", "/v1/responses", 200, "text/event-stream", b"event: x\ndata: {\"type\": \"x\", \"sequence_number\": 0}\n\n", complete=False))
    assert unknown == ['POST /v1/responses 200 frame 0: ResponseStreamEvent $.type: not a Responses stream event type (value: "x")']
