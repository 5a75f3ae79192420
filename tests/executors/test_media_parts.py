"""Images and reasoning in the backends' pure parts: the transcript, each CLI's input, the upstream
body, and each decoder's reasoning events (shapes captured from the real CLIs)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from executors import BackendRequest, ImagePart, Message, ReasoningDelta, TextDelta
from executors.claude.decoder import ClaudeDecoder
from executors.claude.launcher import EFFORTS, effort_requests, user_message
from executors.cli.transcript import PromptImage, render_transcript
from executors.copilot.decoder import CopilotDecoder
from executors.copilot.session_events import SessionDecoder
from executors.copilot.session_params import create_params, send_params
from executors.upstream.wire import Shape, chat_body
from server.protocol.params import REASONING_EFFORTS
from tests.server.params.media_helpers import BLUE, RED

PNG = ImagePart("image/png", RED)
JPEG = ImagePart("image/jpeg", b"\xff\xd8\xff jpeg", detail="low")


def request(*messages: Message, **params: Any) -> BackendRequest:
    return BackendRequest("m", messages, params=params)


def test_a_single_turn_keeps_its_text_and_names_its_images() -> None:
    rendered = render_transcript(request(Message("system", "S"), Message("user", "Q?", images=(PNG, JPEG))))
    assert rendered.parts == ("Q?", PromptImage("image-1.png", PNG), PromptImage("image-2.jpg", JPEG))
    assert rendered.prompt == "Q?" and rendered.system_prompt == "S"
    alone = render_transcript(request(Message("user", " ", images=(PNG, JPEG))))
    assert alone.prompt == "[image-1.png]\n[image-2.jpg]"


def test_a_transcript_marks_each_image_where_it_was() -> None:
    rendered = render_transcript(request(
        Message("user", "What is it?", images=(PNG,)), Message("assistant", "Red."), Message("user", "And this?", images=(JPEG,))))
    first, image1, middle, image2, last = rendered.parts
    assert first == "The conversation so far:\n\n### User\nWhat is it?\n[image-1.png]"
    assert image1 == PromptImage("image-1.png", PNG) and image2 == PromptImage("image-2.jpg", JPEG)
    assert middle == "\n\n### Assistant\nRed.\n\n### User\nAnd this?\n[image-2.jpg]"
    assert last == "\n\nReply as the assistant to the last user message."


def test_claude_gets_text_and_image_blocks_in_order() -> None:
    rendered = render_transcript(request(Message("user", "hi", images=(PNG,)), Message("assistant", "x"), Message("user", "y")))
    content = user_message(rendered.parts)["message"]["content"]
    assert [block["type"] for block in content] == ["text", "image", "text"]
    assert content[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                      "data": base64.b64encode(RED).decode()}}
    assert user_message(("",))["message"]["content"] == [{"type": "text", "text": ""}]


@pytest.mark.parametrize("effort", REASONING_EFFORTS)
def test_every_reasoning_effort_maps_to_claude_control_requests(effort: str) -> None:
    level, budget = EFFORTS[effort]
    requests = [r["request"] for r in effort_requests(effort)]
    expected = ([{"subtype": "apply_flag_settings", "settings": {"effortLevel": level}}] if level else []) + (
        [{"subtype": "set_max_thinking_tokens", "max_thinking_tokens": budget}] if budget is not None else [])
    assert requests == expected and requests
    assert effort_requests(None) == []
    assert EFFORTS["none"] == (None, 0)  # thinking off for every model


def test_copilot_headless_effort_and_blob_attachments(tmp_path: Any) -> None:
    params = create_params("s1", "gpt-4.1", "S", tmp_path, None, effort="xhigh")
    assert params["reasoningEffort"] == "xhigh"
    assert "reasoningEffort" not in create_params("s1", "gpt-4.1", "S", tmp_path, None)
    rendered = render_transcript(request(Message("user", "hi", images=(PNG, JPEG))))
    sent = send_params("s1", rendered)
    assert sent == {"sessionId": "s1", "prompt": "hi", "attachments": [
        {"type": "blob", "data": base64.b64encode(RED).decode(), "mimeType": "image/png", "displayName": "image-1.png"},
        {"type": "blob", "data": base64.b64encode(JPEG.data).decode(), "mimeType": "image/jpeg",
         "displayName": "image-2.jpg"}]}
    assert "attachments" not in send_params("s1", render_transcript(request(Message("user", "hi"))))


@pytest.mark.parametrize("history", ["native", "text"])
def test_upstream_gets_image_url_parts_after_the_text(history: str) -> None:
    body = chat_body(request(Message("user", "one", images=(PNG,)), Message("assistant", "two"),
                             Message("user", "", images=(ImagePart("image/png", BLUE),))), Shape(history=history), "max_tokens")  # type: ignore[arg-type]
    first, answer, last = body["messages"]
    assert first["content"] == [{"type": "text", "text": "one"},
                                {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(RED).decode()}}]
    assert answer["content"] == "two"
    assert last["content"] == [{"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(BLUE).decode()}}]
    detailed = chat_body(request(Message("user", "q", images=(JPEG,))), Shape(), "max_tokens")
    assert detailed["messages"][0]["content"][1]["image_url"]["detail"] == "low"


def copilot_events(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": data}


@pytest.mark.parametrize("decoder", [CopilotDecoder, SessionDecoder], ids=["oneshot", "headless"])
def test_copilot_reasoning_deltas_and_a_whole_block_only_when_nothing_streamed(decoder: Any, tmp_path: Any) -> None:
    made = decoder(tmp_path / "usage.json") if decoder is CopilotDecoder else decoder()
    events = []
    for event in [copilot_events("assistant.reasoning_delta", reasoningId="r1", deltaContent="Let me"),
                  copilot_events("assistant.reasoning_delta", reasoningId="r1", deltaContent=" think."),
                  copilot_events("assistant.message_delta", messageId="m1", deltaContent="Hi"),
                  copilot_events("assistant.message", messageId="m1", content="Hi", reasoningText="Let me think."),
                  copilot_events("assistant.reasoning", reasoningId="r1", content="Let me think."),
                  copilot_events("assistant.reasoning", reasoningId="r2", content="Unstreamed.")]:
        events += made.feed(event)
    assert events == [ReasoningDelta("Let me"), ReasoningDelta(" think."), TextDelta("Hi"), ReasoningDelta("Unstreamed.")]


def claude_delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "stream_event", "event": {"type": "content_block_delta", "index": index, "delta": delta}}


def test_claude_thinking_deltas_and_the_whole_block_without_partial_messages() -> None:
    streamed = ClaudeDecoder()
    events = []
    for line in [{"type": "system", "subtype": "thinking_tokens", "estimated_tokens": 1, "estimated_tokens_delta": 1},
                 claude_delta(0, {"type": "thinking_delta", "thinking": "Hmm"}),
                 claude_delta(0, {"type": "signature_delta", "signature": "c2ln"}),
                 {"type": "assistant", "message": {"content": [{"type": "thinking", "thinking": "Hmm", "signature": "c2ln"}]}},
                 claude_delta(1, {"type": "text_delta", "text": "Hi"}),
                 {"type": "assistant", "message": {"content": [{"type": "text", "text": "Hi"}]}}]:
        events += streamed.feed(line)
    assert events == [ReasoningDelta("Hmm"), TextDelta("Hi")]
    whole = ClaudeDecoder()  # without --include-partial-messages only the assistant lines come
    events = whole.feed({"type": "assistant", "message": {"content": [{"type": "thinking", "thinking": "Hmm"}]}})
    events += whole.feed({"type": "assistant", "message": {"content": [{"type": "text", "text": "Hi"}]}})
    assert events == [ReasoningDelta("Hmm"), TextDelta("Hi")]
