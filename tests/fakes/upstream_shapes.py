"""What each OpenAI-compatible model server's answers look like on the wire.

One `Profile` per server (its defaults), and pure functions that turn one planned answer (`Reply`)
into that server's JSON: the model list, a `chat.completion`, the `chat.completion.chunk` sequence,
text completions, embeddings and error bodies. Sources, read for this fake (facts, not code):
- Ollama: `openai/openai.go` and `middleware/openai.go` (ollama/ollama, 2026-08).
- llama.cpp `llama-server`: `tools/server/server-{task,chat,common,context,http}.cpp` as vendored in
  the llama-cpp-python 0.3.36 sdist.
- llama-cpp-python 0.3.36: `llama_cpp/server/{app,errors}.py`, checked against the real server.
- vLLM: `vllm/exceptions.py`, `entrypoints/openai/protocol.py` and logged error bodies in public repos.
- LM Studio (closed source): its API changelog (0.3.17 streamed tool arguments, 0.3.18 include_usage,
  0.3.23 `reasoning` field) and bodies quoted in public bug reports.
"""

from __future__ import annotations

import json
import random
import string
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Personality = Literal["lmstudio", "ollama", "vllm", "llamacpp", "llama_cpp_python"]
PERSONALITIES: tuple[Personality, ...] = get_args(Personality)
ReasoningField = Literal["reasoning_content", "reasoning"]
Embeddings = Literal["pooled", "per_token", "off"]
EmptyContent = Literal["accept", "reject_null", "reject_empty"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Profile:
    """A server's own habits; each field can be overridden by a switch of the app factory."""

    personality: Personality
    models: tuple[str, ...]
    reasoning_field: ReasoningField
    check_model: bool  # llama.cpp and llama-cpp-python serve whatever `model` names
    usage_chunk: bool  # a usage chunk when stream_options.include_usage is set
    tool_stream: Literal["fragments", "whole"]  # Ollama sends each call whole, in one chunk
    empty_content: EmptyContent
    embeddings: Embeddings


def profile_for(personality: Personality) -> Profile:
    """The defaults of one server, as measured or read in its source."""
    profiles: dict[Personality, Profile] = {
        "lmstudio": Profile("lmstudio", ("qwen2.5-7b-instruct", "text-embedding-nomic-embed-text-v1.5"),
                            "reasoning", True, True, "fragments", "accept", "pooled"),
        "ollama": Profile("ollama", ("llama3.2:latest", "qwen2.5-coder:7b"),
                          "reasoning", True, True, "whole", "accept", "pooled"),
        "vllm": Profile("vllm", ("Qwen/Qwen2.5-7B-Instruct",),
                        "reasoning_content", True, True, "fragments", "accept", "pooled"),
        "llamacpp": Profile("llamacpp", ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",),
                            "reasoning_content", False, True, "fragments", "accept", "pooled"),
        # Measured: no usage chunk ever, a 500 on `content: null`, one vector per token.
        "llama_cpp_python": Profile("llama_cpp_python", ("qwen2.5-coder-0.5b",),
                                    "reasoning_content", False, False, "fragments", "reject_null",
                                    "per_token"),
    }
    return profiles[personality]


# ---------------------------------------------------------------------------- the planned answer


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One native tool call; `arguments` is JSON text (sent as an object in Ollama-native style)."""

    name: str
    arguments: str
    id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer, already split into the chunks a stream sends."""

    model: str
    reasoning: list[str]
    content: list[str]
    tool_calls: tuple[ToolCall, ...]
    usage: Json
    args_as_object: bool = False
    id: str = field(default="")
    created: int = field(default_factory=lambda: int(time.time()))
    finish: str | None = None  # the `finish` directive: e.g. "length" for an answer cut short

    @property
    def finish_reason(self) -> str:
        return self.finish or ("tool_calls" if self.tool_calls else "stop")

    @property
    def text(self) -> str:
        return "".join(self.content)


def _alnum(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(random.choice(alphabet) for _ in range(n))


def completion_id(personality: Personality, kind: Literal["chat", "text"]) -> str:
    """An id shaped like the server's own (Ollama: `chatcmpl-<0..998>`, llama.cpp: 32 alnum)."""
    prefix = "chatcmpl-" if kind == "chat" else "cmpl-"
    ids: dict[Personality, str] = {
        "lmstudio": prefix + _alnum(21, string.ascii_lowercase + string.digits),
        "ollama": prefix + str(random.randrange(999)),
        "vllm": prefix + uuid.uuid4().hex,
        "llamacpp": "chatcmpl-" + _alnum(32),
        "llama_cpp_python": prefix + str(uuid.uuid4()),
    }
    return ids[personality]


def tool_call_id(personality: Personality, name: str, index: int, completion: str) -> str:
    """A tool-call id in the server's format (LM Studio: digits; llama-cpp-python: `call__N_name_cmpl-…`)."""
    ids: dict[Personality, str] = {
        "lmstudio": str(random.randrange(10**8, 10**9)),
        "ollama": "call_" + _alnum(8, string.ascii_lowercase + string.digits),
        "vllm": "chatcmpl-tool-" + uuid.uuid4().hex,
        "llamacpp": _alnum(32),
        # Measured: the completion's own uuid, e.g. call__0_get_weather_cmpl-716a4332-….
        "llama_cpp_python": f"call__{index}_{name}_cmpl-{completion.removeprefix('chatcmpl-')}",
    }
    return ids[personality]


def arguments_value(call: ToolCall, as_object: bool) -> Any:
    """The arguments as OpenAI sends them (a JSON string), or as Ollama's native API does (an object)."""
    return json.loads(call.arguments) if as_object else call.arguments


def fragments(text: str, n: int = 3) -> list[str]:
    """Argument text in about n pieces, as servers stream it while the model writes."""
    if not text:
        return [""]
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]


# ---------------------------------------------------------------------------- model list


def _ollama_namespace(model_id: str) -> str:
    # Ollama's model.ParseName: [host/][namespace/]model[:tag]; the namespace defaults to "library".
    parts = model_id.split(":")[0].split("/")
    return parts[-2] if len(parts) >= 2 else "library"


def models_body(profile: Profile, models: tuple[str, ...], max_model_len: int | None) -> Json:
    """`GET /v1/models` exactly as each server shapes it."""
    now = int(time.time())
    name = profile.personality
    if name == "lmstudio":
        return {"data": [{"id": m, "object": "model", "owned_by": "organization_owner"} for m in models],
                "object": "list"}
    if name == "ollama":
        return {"object": "list", "data": [{"id": m, "object": "model", "created": now,
                                            "owned_by": _ollama_namespace(m)} for m in models]}
    if name == "vllm":
        return {"object": "list", "data": [_vllm_card(m, now, max_model_len or 32768) for m in models]}
    if name == "llamacpp":
        return _llamacpp_models(models, now, max_model_len or 2048)
    return {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "me", "permissions": []}
                                       for m in models]}


def _vllm_card(model: str, now: int, max_model_len: int) -> Json:
    permission = {"id": f"modelperm-{uuid.uuid4().hex}", "object": "model_permission", "created": now,
                  "allow_create_engine": False, "allow_sampling": True, "allow_logprobs": True,
                  "allow_search_indices": False, "allow_view": True, "allow_fine_tuning": False,
                  "organization": "*", "group": None, "is_blocking": False}
    return {"id": model, "object": "model", "created": now, "owned_by": "vllm", "root": model,
            "parent": None, "max_model_len": max_model_len, "permission": [permission]}


def _llamacpp_models(models: tuple[str, ...], now: int, n_ctx: int) -> Json:
    # llama-server lists its one model twice: an Ollama-style `models` entry and the OpenAI `data`
    # entry, whose `meta` carries the model's vocabulary, context and size.
    meta = {"vocab_type": 2, "n_vocab": 151936, "n_ctx": n_ctx, "n_ctx_train": 32768, "n_embd": 896,
            "n_params": 494032768, "size": 491400032, "ftype": "Q4_K - Medium"}
    details = {"parent_model": "", "format": "gguf", "family": "", "families": [""],
               "parameter_size": "", "quantization_level": ""}
    return {
        "models": [{"name": m, "model": m, "modified_at": "", "size": "", "digest": "", "type": "model",
                    "description": "", "tags": [""], "capabilities": ["completion"], "parameters": "",
                    "details": details} for m in models],
        "object": "list",
        "data": [{"id": m, "aliases": [], "tags": [], "object": "model", "created": now,
                  "owned_by": "llamacpp", "meta": meta} for m in models],
    }
