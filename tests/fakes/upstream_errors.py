"""The error bodies and texts each model server really answers with.

Every function returns `(status, body)`. Where a text is quoted from a real server, the comment
says where it comes from; the few marked "synthetic" have no real counterpart we could find and
only keep the personality's envelope.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.upstream_shapes import Json, Personality

Answer = tuple[int, Any]

# Mistral-7B-Instruct and Llama-2 chat templates raise this from Jinja (`raise_exception(...)`)
# when a `tool` message or an assistant `tool_calls` turn breaks their user/assistant alternation.
ROLES_MUST_ALTERNATE = "Conversation roles must alternate user/assistant/user/assistant/..."
# Gemma / Mistral templates loaded in LM Studio (bug reports quoting its 400 body, 2025).
ONLY_USER_ASSISTANT = "Only user and assistant roles are supported!"
# llama-cpp-python 0.3.36 with `--chat_format chatml-function-calling` (see reference doc).
AUTO_STREAM_TOOLS = "Automatic streaming tool choice is not supported"


def error_body(personality: Personality, status: int, message: str, *,
               param: str | None = None, code: str | None = None) -> Answer:
    """One error in the personality's envelope."""
    if personality == "vllm":
        # vLLM ErrorResponse: type is the exception-ish name, code the HTTP status.
        kinds = {400: "BadRequestError", 404: "NotFoundError", 501: "NotImplementedError"}
        kind = kinds.get(status, "InternalServerError" if status >= 500 else "BadRequestError")
        return status, {"error": {"message": message, "type": kind, "param": param, "code": status}}
    if personality == "ollama":
        # openai.NewError: only the type depends on the status; code is always null.
        kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
        return status, {"error": {"message": message, "type": kind, "param": None, "code": None}}
    if personality == "llamacpp":
        # format_error_response in server-common.cpp: {code, message, type}, no param.
        kinds = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 501: "not_supported_error", 503: "unavailable_error"}
        return status, {"error": {"code": status, "message": message,
                                  "type": kinds.get(status, "server_error")}}
    if personality == "lmstudio":
        return status, {"error": {"message": message, "type": "invalid_request_error",
                                  "param": param, "code": code}}
    # llama-cpp-python RouteErrorHandler: anything unexpected is a 500 internal_server_error.
    kind = "internal_server_error" if status >= 500 else "invalid_request_error"
    return status, {"error": {"message": message, "type": kind, "param": param, "code": code}}


def lmstudio_template_error(message: str) -> Answer:
    """LM Studio's prompt-template failures: a 400 whose `error` is a bare string."""
    return 400, {"error": f'Error rendering prompt with jinja template: "{message}".'}


def validation_error(field: str, value: Any) -> Answer:
    """A FastAPI/pydantic-v2 server whose request model forbids unknown fields (a 422)."""
    detail = {"type": "extra_forbidden", "loc": ["body", field], "msg": "Extra inputs are not permitted",
              "input": value}
    return 422, {"detail": [detail]}


def unauthorized(personality: Personality, sent_key: bool) -> Answer:
    """The 401 for a missing or wrong API key."""
    if personality == "vllm":
        return 401, {"error": "Unauthorized"}  # vLLM's api-key middleware
    if personality == "llamacpp":
        return 401, {"error": {"message": "Invalid API Key", "type": "authentication_error", "code": 401}}
    if personality == "llama_cpp_python":
        return 401, {"detail": "Invalid API key"}  # FastAPI HTTPException in authenticate()
    if personality == "lmstudio":
        # LM Studio 0.4 "Require Authentication", body quoted in an opencode-lmstudio bug report.
        message = ("An LM Studio API token is required to make requests to this server, but none was "
                   "provided using the Authorization header using the 'Bearer' scheme (i.e., "
                   "'Authorization: Bearer $LM_API_TOKEN'). Learn more at: "
                   "https://lmstudio.ai/docs/developer/core/authentication.")
        if sent_key:
            message = "The provided LM Studio API token is invalid."  # synthetic
        return 401, {"error": {"type": "invalid_request", "code": "invalid_api_key", "message": message}}
    # Ollama has no key of its own; a key in front of it comes from a proxy (gin-style body).
    return 401, {"error": "unauthorized"}


def model_not_found(personality: Personality, model: str, models: tuple[str, ...]) -> Answer:
    """An unknown `model`, with each server's status (not always 404) and words."""
    if personality == "vllm":
        return error_body("vllm", 404, f"The model `{model}` does not exist.", param="model")
    if personality == "ollama":
        return error_body("ollama", 404, f"model '{model}' not found")  # server/routes.go ChatHandler
    if personality == "lmstudio":
        # Quoted in letta-ai/letta#1876 (LM Studio 0.3.5).
        listing = "\n".join(models)
        message = f'Model "{model}" not found. Please specify a valid model.\n\nYour models:\n\n{listing}'
        return 404, {"error": {"message": message, "type": "invalid_request_error", "param": "model",
                               "code": "model_not_found"}}
    if personality == "llamacpp":
        return error_body("llamacpp", 400, f"model '{model}' not found")  # router mode, server-models.cpp
    return error_body("llama_cpp_python", 400, f"The model `{model}` does not exist", code="model_not_found")


def tools_rejected(personality: Personality, status: int, model: str, tools: Any) -> Answer:
    """A server (or model) that refuses `tools`: each server's own reason, at the given status."""
    if status == 422:
        return validation_error("tools", tools)
    if personality == "lmstudio":
        # A template that cannot render tools (Gemma in LM Studio, zed-industries/zed#45379).
        return lmstudio_template_error("Unknown test: sequence")
    messages: dict[Personality, str] = {
        # vLLM started without --enable-auto-tool-choice (serving_chat.py), a 400.
        "vllm": '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
        # Ollama CheckCapabilities, prefixed with the model's full name (server/routes.go), a 400.
        "ollama": f"registry.ollama.ai/library/{model} does not support tools",
        # llama-server without --jinja (server-common.cpp), a runtime_error so a 500.
        "llamacpp": "tools param requires --jinja flag",
        "llama_cpp_python": AUTO_STREAM_TOOLS,
    }
    return error_body(personality, status, messages[personality])


def functions_rejected(personality: Personality, status: int, functions: Any) -> Answer:
    """The legacy `functions` field refused (OpenAI's own wording for an unknown argument)."""
    if status == 422:
        return validation_error("functions", functions)
    return error_body(personality, status, "Unrecognized request argument supplied: functions")


def tool_history_rejected(personality: Personality) -> Answer:
    """A `tool` message or an assistant `tool_calls` turn that the model's template refuses."""
    if personality == "lmstudio":
        return lmstudio_template_error(ONLY_USER_ASSISTANT)
    # Template exceptions: vLLM answers 400; llama.cpp and llama-cpp-python let them become 500s;
    # Ollama renders its own Go templates and would not refuse (synthetic there).
    status = {"vllm": 400, "ollama": 400}.get(personality, 500)
    return error_body(personality, status, ROLES_MUST_ALTERNATE)


def empty_content_rejected(personality: Personality, index: int, message: Json) -> Answer:
    """A message whose content is null, empty or missing, refused."""
    if personality == "llama_cpp_python" and message.get("content", "") is None:
        return error_body("llama_cpp_python", 500, llama_cpp_python_null_content(index, message))
    if personality == "llamacpp":
        # common_chat_msgs_parse_oaicompat (common/chat.cpp), a runtime_error so a 500.
        return error_body("llamacpp", 500, "Failed to parse messages: Expected 'content' or 'tool_calls' "
                          "(ref: https://github.com/ggml-org/llama.cpp/issues/8367 & "
                          "https://github.com/ggml-org/llama.cpp/issues/12279)")
    if personality == "lmstudio":
        return lmstudio_template_error("Message content must not be empty")  # synthetic text
    return error_body(personality, 400, f"messages[{index}]: content must be a non-empty string")  # synthetic


def llama_cpp_python_null_content(index: int, message: Json) -> str:
    """llama-cpp-python 0.3.36's 500 text for `content: null`, as measured on the real server.

    An assistant message fails pydantic validation against each message type (7 errors, with a
    traceback line appended); any other role gets through and breaks the chat template instead.
    """
    if message.get("role") != "assistant":
        return 'can only concatenate str (not "NoneType") to str'
    where = ("body", "messages", index)
    role = message["role"]
    errs: list[Json] = [
        *({"type": "literal_error", "loc": (*where, f"ChatCompletionRequest{kind}Message", "role"),
           "msg": f"Input should be '{kind.lower()}'", "input": role, "ctx": {"expected": f"'{kind.lower()}'"}}
          for kind in ("System", "User")),
        {"type": "string_type", "loc": (*where, "ChatCompletionRequestAssistantMessage", "content"),
         "msg": "Input should be a valid string", "input": None},
        {"type": "literal_error", "loc": (*where, "ChatCompletionRequestToolMessage", "role"),
         "msg": "Input should be 'tool'", "input": role, "ctx": {"expected": "'tool'"}},
        {"type": "missing", "loc": (*where, "ChatCompletionRequestToolMessage", "tool_call_id"),
         "msg": "Field required", "input": message},
        {"type": "literal_error", "loc": (*where, "ChatCompletionRequestFunctionMessage", "role"),
         "msg": "Input should be 'function'", "input": role, "ctx": {"expected": "'function'"}},
        {"type": "missing", "loc": (*where, "ChatCompletionRequestFunctionMessage", "name"),
         "msg": "Field required", "input": message},
    ]
    lines = "\n".join(f"  {err!r}" for err in errs)
    trace = ('  File "/venv/lib/python3.11/site-packages/llama_cpp/server/app.py", line 376, '
             "in create_chat_completion\n    POST /v1/chat/completions")
    return f"{len(errs)} validation errors:\n{lines}\n\n{trace}"


def max_tokens_too_large(personality: Personality, max_tokens: int, limit: int, prompt_tokens: int) -> Answer:
    """vLLM's words for max_tokens above what the context leaves (vllm/entrypoints, 2025-2026).

    The trailing `(parameter=…, value=…)` is VLLMValidationError.__str__ in current vLLM.
    """
    message = (f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. This model's "
               f"maximum context length is {limit} tokens and your request has {prompt_tokens} input "
               f"tokens ({max_tokens} > {limit} - {prompt_tokens}). "
               f"(parameter=max_tokens, value={max_tokens})")
    return error_body(personality, 400, message, param="max_tokens")


def prompt_too_long(personality: Personality, limit: int, prompt_tokens: int) -> Answer:
    """vLLM's words for a prompt that alone exceeds the context."""
    message = (f"This model's maximum context length is {limit} tokens. However, your request has "
               f"{prompt_tokens} input tokens. Please reduce the length of the input messages.")
    return error_body(personality, 400, message, param="messages")


def embeddings_unavailable(personality: Personality) -> Answer:
    """Embeddings asked of a server started without them."""
    if personality == "llamacpp":
        return error_body("llamacpp", 501, "This server does not support embeddings. Start it with `--embeddings`")
    if personality == "llama_cpp_python":
        return error_body("llama_cpp_python", 500, LLAMA_CPP_PYTHON_NO_EMBEDDINGS)
    return error_body(personality, 400, "This model does not support embeddings.")  # synthetic


LLAMA_CPP_PYTHON_NO_EMBEDDINGS = "Llama model must be created with embedding=True to call this method"


def scripted_error(personality: Personality, status: int) -> Answer:
    """`[[fake:status=CODE]]`: an error of that status in the personality's envelope."""
    return error_body(personality, status, f"Fake error with status {status}.")

