"""OpenAI generation parameters: which exist, and which a backend honours, the bridge emulates or ignores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from executors import Capabilities

# Parameters of the chat-completions API that shape the answer (names as chat completions spells them).
OPENAI_PARAMS = frozenset({
    "temperature", "top_p", "n", "logprobs", "top_logprobs", "max_tokens", "max_completion_tokens",
    "stop", "presence_penalty", "frequency_penalty", "logit_bias", "seed", "response_format",
    "reasoning_effort", "service_tier", "modalities", "audio", "prediction", "web_search_options",
    "verbosity", "prompt_cache_key", "safety_identifier",
})
# Values that ask for nothing beyond the default: no need to honour or report them.
_DEFAULTS_THAT_CHANGE_NOTHING: Mapping[str, Any] = {"n": 1, "logprobs": False}


@dataclass(frozen=True, slots=True)
class ParamPlan:
    """What happens to each parameter a client set: passed to the backend, or ignored and reported."""

    passed: Mapping[str, Any]
    ignored: tuple[str, ...]


def plan_params(params: Mapping[str, Any], capabilities: Capabilities) -> ParamPlan:
    """Pass what the backend honours; the rest is reported in X-Bridge-Ignored-Params."""
    meaningful = {k: v for k, v in params.items() if _DEFAULTS_THAT_CHANGE_NOTHING.get(k, object()) != v}
    passed = {k: v for k, v in meaningful.items() if k in capabilities.params}
    ignored = tuple(sorted(k for k in meaningful if k not in passed))
    return ParamPlan(passed, ignored)
