"""Chat, text-completion and embedding bodies, and the chunk sequences, per server personality."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

from tests.fakes.upstream_shapes import (
    Json,
    Personality,
    Profile,
    Reply,
    arguments_value,
    fragments,
)

LLAMACPP_FINGERPRINT = "b6713-a1b2c3d4"  # llama_build_info(): "b<build>-<commit>"


def _timings(reply: Reply) -> Json:
    prompt_n, predicted_n = reply.usage["prompt_tokens"], reply.usage["completion_tokens"]
    return {"cache_n": 0, "prompt_n": prompt_n, "prompt_ms": 12.5, "prompt_per_token_ms": 12.5 / prompt_n,
            "prompt_per_second": prompt_n / 0.0125, "predicted_n": predicted_n, "predicted_ms": 40.0,
            "predicted_per_token_ms": 40.0 / predicted_n, "predicted_per_second": predicted_n / 0.04}


def _envelope(personality: Personality, reply: Reply, obj: str) -> Json:
    base: Json = {"id": reply.id, "object": obj, "created": reply.created, "model": reply.model}
    if personality == "ollama":
        base["system_fingerprint"] = "fp_ollama"
    elif personality == "llamacpp":
        base["system_fingerprint"] = LLAMACPP_FINGERPRINT
    elif personality == "lmstudio":
        base["system_fingerprint"] = reply.model
    return base


# ---------------------------------------------------------------------------- chat, whole


def _tool_calls_json(reply: Reply) -> list[Json]:
    return [{"id": call.id, "type": "function",
             "function": {"name": call.name, "arguments": arguments_value(call, reply.args_as_object)}}
            for call in reply.tool_calls]


def chat_completion(profile: Profile, reply: Reply, reasoning_field: str) -> Json:
    """One `chat.completion` as the server returns it when `stream` is false."""
    name = profile.personality
    message: Json = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls_json(reply)
        if name in ("vllm", "llama_cpp_python"):
            message["content"] = reply.text or None
        if name == "llama_cpp_python":  # measured: the legacy field mirrors the first call
            message["function_call"] = dict(message["tool_calls"][0]["function"])
    if reply.reasoning:
        message[reasoning_field] = "".join(reply.reasoning)
    choice: Json = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
    if name != "ollama":
        choice["logprobs"] = None
    body = {**_envelope(name, reply, "chat.completion"), "choices": [choice], "usage": reply.usage}
    if name == "llamacpp":
        body["timings"] = _timings(reply)
    elif name == "lmstudio":
        body["stats"] = {}
    return body


# ---------------------------------------------------------------------------- chat, streamed


def chat_chunks(profile: Profile, reply: Reply, reasoning_field: str, include_usage: bool) -> list[Json]:
    """Every `chat.completion.chunk` of one streamed answer, in order (without `[DONE]`)."""
    name = profile.personality
    deltas: list[Json] = []
    openings: dict[str, Json] = {"vllm": {"role": "assistant", "content": ""},
                                 "llamacpp": {"role": "assistant", "content": None},
                                 "llama_cpp_python": {"role": "assistant"}}
    opening = openings.get(name)
    if opening is not None:
        deltas.append(opening)
    deltas += [_reasoning_delta(name, reasoning_field, piece) for piece in reply.reasoning]
    deltas += [{"content": piece} for piece in reply.content]
    deltas += _tool_deltas(profile, reply)
    if name in ("ollama", "lmstudio"):
        # No separate role chunk: Ollama puts the role on the first delta, LM Studio on every one.
        targets = deltas[:1] if name == "ollama" else deltas
        for delta in targets:
            delta["role"] = "assistant"
        if not deltas:
            deltas.append({"role": "assistant", "content": ""})
    closing: Json = {}
    if name == "llama_cpp_python" and reply.tool_calls:
        # Measured: in tool mode every delta carries all four keys, mostly null.
        deltas[0].update(content=None, function_call=None, tool_calls=None)
        closing = {"role": None, "content": None, "function_call": None, "tool_calls": None}
    chunks = [_chunk(name, reply, delta, None) for delta in deltas]
    chunks.append(_chunk(name, reply, closing, reply.finish_reason))
    if include_usage and profile.usage_chunk:
        chunks.append({**_envelope(name, reply, "chat.completion.chunk"), "choices": [], "usage": reply.usage})
    if name == "llamacpp":
        chunks[-1]["timings"] = _timings(reply)
    return chunks


def _reasoning_delta(name: Personality, field: str, piece: str) -> Json:
    if name == "ollama":
        return {"content": "", field: piece}  # Ollama keeps an empty content next to reasoning
    return {field: piece}


def _chunk(name: Personality, reply: Reply, delta: Json, finish: str | None) -> Json:
    choice: Json = {"index": 0, "delta": delta, "finish_reason": finish}
    if name not in ("ollama", "llamacpp"):
        choice["logprobs"] = None
    return {**_envelope(name, reply, "chat.completion.chunk"), "choices": [choice]}


def _tool_deltas(profile: Profile, reply: Reply) -> list[Json]:
    """Native tool calls: whole in one delta (Ollama), or a name delta then argument fragments."""
    if not reply.tool_calls:
        return []
    calls = _tool_calls_json(reply)
    if profile.tool_stream == "whole":
        return [{"content": "", "tool_calls": [{**call, "index": i} for i, call in enumerate(calls)]}]
    if profile.personality == "llama_cpp_python":
        return _llama_cpp_python_tool_deltas(reply)
    deltas: list[Json] = []
    for index, call in enumerate(reply.tool_calls):
        head: Json = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name}}
        if profile.personality == "lmstudio":
            head["function"]["arguments"] = ""
        deltas.append({"tool_calls": [head]})
        value = arguments_value(call, reply.args_as_object)
        # An object cannot be streamed in pieces; an Ollama-style server sends it in one go.
        pieces: list[Any] = fragments(value) if isinstance(value, str) else [value]
        deltas += [{"tool_calls": [{"index": index, "function": {"arguments": piece}}]} for piece in pieces]
    return deltas


def _llama_cpp_python_tool_deltas(reply: Reply) -> list[Json]:
    """Measured on 0.3.36: each fragment repeats id, type and name, mirrored in `function_call`."""
    deltas: list[Json] = []
    for index, call in enumerate(reply.tool_calls):
        for piece in fragments(call.arguments):
            function = {"name": call.name, "arguments": piece}
            deltas.append({"role": None, "content": None, "function_call": dict(function),
                           "tool_calls": [{"index": index, "id": call.id, "type": "function",
                                           "function": function}]})
    return deltas


# ---------------------------------------------------------------------------- text completions


def text_completion(profile: Profile, reply: Reply) -> Json:
    """`POST /v1/completions` without streaming."""
    choice = {"text": reply.text, "index": 0, "logprobs": None, "finish_reason": reply.finish_reason}
    body = {**_envelope(profile.personality, reply, "text_completion"), "choices": [choice],
            "usage": reply.usage}
    if profile.personality == "llamacpp":
        body["timings"] = _timings(reply)
    return body


def text_chunks(profile: Profile, reply: Reply, include_usage: bool) -> list[Json]:
    """The streamed `text_completion` chunks: text pieces, a finishing chunk, maybe usage."""
    name = profile.personality
    pieces: list[tuple[str, str | None]] = [(piece, None) for piece in reply.content] + [("", reply.finish_reason)]
    chunks = [{**_envelope(name, reply, "text_completion"),
               "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]}
              for text, finish in pieces]
    if include_usage and profile.usage_chunk:
        chunks.append({**_envelope(name, reply, "text_completion"), "choices": [], "usage": reply.usage})
    return chunks


# ---------------------------------------------------------------------------- embeddings


def vector(text: str, dim: int) -> list[float]:
    """A deterministic unit vector for a text (same text, same vector)."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(digest[i % len(digest)] - 127.5) / 127.5 + i * 1e-3 for i in range(dim)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def embeddings(model: str, inputs: list[str], dim: int, per_token: bool, as_base64: bool) -> Json:
    """`POST /v1/embeddings`: one vector per input, or (llama-cpp-python) one per token of each.

    `as_base64`: `encoding_format: "base64"` (the openai SDK's default), little-endian float32.
    """
    data = []
    for index, text in enumerate(inputs):
        tokens = text.split() or [text]
        value: Any = [vector(token, dim) for token in tokens] if per_token else vector(text, dim)
        if as_base64 and not per_token:
            value = base64.b64encode(struct.pack(f"<{dim}f", *value)).decode()
        data.append({"object": "embedding", "embedding": value, "index": index})
    prompt_tokens = sum(max(1, len(text.split())) for text in inputs)
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}}
