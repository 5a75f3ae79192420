"""From a request to a plan: the configured server's refusals, and what to answer and how to fail."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from tests.fakes import upstream_errors as errors
from tests.fakes.model_server import count_tokens, find_directives, script_for, split_chunks
from tests.fakes.upstream_script import scripted_turn
from tests.fakes.upstream_shapes import Json, Profile, Reply, ToolCall, completion_id, tool_call_id

ToolStyle = Literal["native", "hermes", "bare", "fenced"]
Failure = Literal["malformed", "drop", "hang", "stall"]
TOOL_CALL_RE = re.compile(r"\[\[fake:tool_call=([\w.-]+)\s*(.*?)\]\]", re.DOTALL)


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """The fake server's switches: the personality's defaults, plus the quirks a test turns on."""

    profile: Profile
    models: tuple[str, ...]
    api_key: str | None = None  # set: a missing or wrong bearer key gets the server's 401
    reject_tools: int | None = None  # 400, 422 or 500: `tools` refused with the server's words
    reject_functions: int | None = None  # the legacy `functions` field refused with this status
    reject_tool_history: bool = False  # `tool` messages / assistant `tool_calls` refused
    max_model_len: int | None = None  # context size: larger max_tokens gets vLLM's 400
    tool_style: ToolStyle = "native"  # how `tool_call` directives come out (native or as text)
    tool_args_as_object: bool = False  # Ollama-native arguments (an object, not a JSON string)
    embedding_dim: int = 8


class Refused(Exception):
    """A request the configured server would refuse; carries the answer."""

    def __init__(self, answer: errors.Answer) -> None:
        super().__init__(answer[0])
        self.answer = answer


# ---------------------------------------------------------------------------- request checks


def require_known_model(config: UpstreamConfig, model: str) -> None:
    """Refuse a model the server does not list (when the personality checks names at all)."""
    if config.profile.check_model and model not in config.models:
        raise Refused(errors.model_not_found(config.profile.personality, model, config.models))


def check_limit(config: UpstreamConfig, body: Json, prompt_tokens: int) -> None:
    """vLLM's context check: the prompt, then the prompt plus the asked-for completion tokens."""
    limit = config.max_model_len
    if limit is None:
        return
    name = config.profile.personality
    if prompt_tokens > limit:
        raise Refused(errors.prompt_too_long(name, limit, prompt_tokens))
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(asked, int) and asked > limit - prompt_tokens:
        raise Refused(errors.max_tokens_too_large(name, asked, limit, prompt_tokens))


def check_chat(config: UpstreamConfig, body: Json) -> None:
    """The configured quirks, in the order a real server meets them."""
    name = config.profile.personality
    messages = body.get("messages") or []
    if config.reject_tools is not None and body.get("tools"):
        raise Refused(errors.tools_rejected(name, config.reject_tools, body.get("model", ""), body["tools"]))
    if config.reject_functions is not None and body.get("functions"):
        raise Refused(errors.functions_rejected(name, config.reject_functions, body["functions"]))
    if config.reject_tool_history and any(
        m.get("role") == "tool" or m.get("tool_calls") for m in messages if isinstance(m, dict)
    ):
        raise Refused(errors.tool_history_rejected(name))
    mode = config.profile.empty_content
    for index, message in enumerate(m for m in messages if isinstance(m, dict)):
        content = message.get("content")
        null = content is None and "content" in message
        if (mode == "reject_null" and null) or (mode == "reject_empty" and not content):
            raise Refused(errors.empty_content_rejected(name, index, message))


# ---------------------------------------------------------------------------- planning the answer


@dataclass(frozen=True, slots=True)
class Plan:
    """One request's answer plus how to misbehave while sending it."""

    reply: Reply
    delay: float
    first_byte: float
    failure: Failure | None
    after: int
    ping: bool


def _tool_calls(texts: list[str]) -> list[tuple[str, str]]:
    """Every `tool_call=NAME {args}` directive, in order (arguments must not contain `]]`)."""
    calls = []
    for text in texts:
        for name, args in TOOL_CALL_RE.findall(text):
            calls.append((name, json.dumps(json.loads(args or "{}"))))
    return calls


def _markup(style: ToolStyle, calls: list[tuple[str, str]]) -> str:
    """Tool calls written as text the way models do: Hermes/Qwen tags, bare JSON or a fenced block."""
    # The arguments go in as written (a script may give broken JSON on purpose).
    rendered = [f'{{"name": {json.dumps(name)}, "arguments": {args}}}' for name, args in calls]
    if style == "hermes":
        return "\n".join(f"<tool_call>\n{call}\n</tool_call>" for call in rendered)
    if style == "fenced":
        return "\n".join(f"```json\n{call}\n```" for call in rendered)
    return "\n".join(rendered)


def plan_for(config: UpstreamConfig, kind: Literal["chat", "text"], model: str, texts: list[str],
             prompt_tokens: int, assistant_turns: int = 0) -> Plan:
    """Read the directives (and this turn of a `replies_file` script) and plan the answer.

    Raises Refused for `status`.
    """
    name = config.profile.personality
    turn = scripted_turn(texts, assistant_turns)
    if turn is not None:
        texts = [*texts, turn.directives]
    directives = find_directives(texts)
    script = script_for(texts)
    if script.status is not None:
        raise Refused(errors.scripted_error(name, script.status))
    calls = _tool_calls(texts) + list(turn.calls if turn else ()) if kind == "chat" else []
    style: ToolStyle = directives.get("tool_style", config.tool_style)  # type: ignore[assignment]
    if turn is not None:
        content = turn.text
    else:
        explicit = "reply" in directives or "reply_file" in directives
        content = script.reply if explicit or not calls else ""
    native: tuple[ToolCall, ...] = ()
    reply_id = completion_id(name, kind)
    if calls and style == "native":
        native = tuple(ToolCall(n, a, tool_call_id(name, n, i, reply_id)) for i, (n, a) in enumerate(calls))
    elif calls:
        content = "\n".join(part for part in (content, _markup(style, calls)) if part)
    chunk_count = int(directives.get("chunks", 3))
    reasoning = directives.get("reasoning", "")
    completion_tokens = count_tokens(content + reasoning + "".join(a for _, a in calls))
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
             "total_tokens": prompt_tokens + completion_tokens}
    as_object = config.tool_args_as_object or directives.get("args_object") == "1"
    reply = Reply(model=model, reasoning=split_chunks(reasoning, chunk_count),
                  content=split_chunks(content, chunk_count), tool_calls=native, usage=usage,
                  args_as_object=as_object, id=reply_id, finish=directives.get("finish"))
    failure = directives.get("fail")
    if failure not in (None, "malformed", "drop", "hang", "stall"):
        raise ValueError(f"unknown fail mode {failure!r}")
    return Plan(reply, script.delay, float(directives.get("first_byte", 0)), failure,  # type: ignore[arg-type]
                int(directives.get("after", 1)), directives.get("ping") == "1")
