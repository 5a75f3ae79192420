"""The HTTP client against the real bridge (fake CLIs), without a terminal."""

from __future__ import annotations

import pytest
from bridge_process import RunningBridge, StartBridge, process_gone, wait_for

from chat_client.api import ApiError, BridgeClient, error_from_body

MODEL = "copilot/gpt-5.4"
HELLO = [{"role": "user", "content": "hello"}]


def test_stream_yields_pieces_in_order(chat_server_url: str) -> None:
    pieces = list(BridgeClient(chat_server_url).stream_chat(MODEL, HELLO))
    # The fake CLI prints its default answer in three deltas; each arrives as one piece.
    assert pieces == ["Hello", " from", " mock."]


def test_base_url_may_end_in_v1(chat_server_url: str) -> None:
    models = BridgeClient(chat_server_url + "/v1/").list_models()
    assert models[0] == "copilot/auto"
    assert {MODEL, "claude/sonnet"} <= set(models)
    assert all(m.startswith(("copilot/", "claude/")) for m in models)


def test_non_streaming_answer_with_a_key(start_bridge_with: StartBridge) -> None:
    keyed = start_bridge_with(API_KEY="sk-1")
    client = BridgeClient(keyed.url, api_key="sk-1")
    assert client.complete_chat(MODEL, HELLO) == "Hello from mock."
    [logged] = keyed.chat_requests(1)
    assert logged["status"] == 200
    assert logged["request_body"] == {"model": MODEL, "messages": HELLO, "stream": False}
    with pytest.raises(ApiError) as raised:
        BridgeClient(keyed.url).complete_chat(MODEL, HELLO)
    assert str(raised.value).startswith("401 invalid_api_key: no API key provided")


def test_openai_error_becomes_one_line(chat_server_url: str) -> None:
    with pytest.raises(ApiError) as raised:
        list(BridgeClient(chat_server_url).stream_chat("nope", HELLO))
    assert str(raised.value) == (
        "404 model_not_found: The model 'nope' does not exist or is not served here;"
        " GET /v1/models lists the ids"
    )


def test_in_stream_error_is_raised_after_the_text(chat_server_url: str) -> None:
    seen: list[str] = []
    crash = [{"role": "user", "content": "boom [[fake:scenario=crash]]"}]
    with pytest.raises(ApiError, match=r"^copilot_execution_error: copilot exited with status -9$"):
        seen.extend(BridgeClient(chat_server_url).stream_chat(MODEL, crash))
    assert seen == ["Hello"]


def test_closing_the_stream_closes_the_connection(bridge: RunningBridge) -> None:
    # "Hello from mock." in 16 one-character pieces, 0.5 s apart: 8 s unless stopped.
    slow = "slow [[fake:scenario=slow]] [[fake:chunks=16]] [[fake:delay=0.5]]"
    stream = BridgeClient(bridge.url).stream_chat(MODEL, [{"role": "user", "content": slow}])
    assert next(stream) == "H"
    stream.close()
    # The bridge saw the client go and killed the CLI long before it would have finished.
    run = bridge.cli_run(slow)
    assert wait_for(lambda: process_gone(int(run["pid"])), timeout=4)
    assert bridge.cli_run(slow)["finished"] is False


@pytest.mark.parametrize(
    ("body", "status", "reason", "line"),
    [
        (
            {"error": {"message": "m", "type": "t", "param": None, "code": None}},
            400,
            "",
            "400 t: m",
        ),
        ({"error": "plain"}, 500, "Internal Server Error", "500 Internal Server Error: plain"),
        (
            "<html>bad  gateway</html>",
            502,
            "Bad Gateway",
            "502 Bad Gateway: <html>bad gateway</html>",
        ),
        ({"detail": "x"}, 422, "", '422: {"detail": "x"}'),
    ],
)
def test_error_lines(body: object, status: int, reason: str, line: str) -> None:
    assert str(error_from_body(body, status=status, reason=reason)) == line
