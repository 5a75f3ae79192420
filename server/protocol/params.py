"""OpenAI generation parameters: one table says what happens to each when a backend does not honour it.

A parameter the backend declares in `Capabilities.params` is passed to it. Otherwise the table
decides: the bridge emulates it (`stop`, `response_format`), reports it as ignored in
`X-Bridge-Ignored-Params` (hints whose absence leaves a valid answer), or refuses the request
with a 400 that names it (what no emulation can give: several choices, log probabilities,
audio). A value that asks for nothing beyond the default (`n: 1`, `logprobs: false`) is
neither passed nor reported. `reasoning_effort` must be one of the levels some backend knows
(OpenAI's, and `max`, which both CLIs take), whatever happens to it next.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from executors import Capabilities
from server.protocol.errors import InvalidRequest

Action = Literal["emulate", "ignore", "refuse"]
# OpenAI's levels, and `max` (Copilot's --reasoning-effort and Claude's --effort take it).
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True, slots=True)
class ParamPolicy:
    """What the bridge does with a parameter its backend does not honour, and why."""

    action: Action
    why: str  # for a refusal: the end of the 400's message; otherwise the reason, for readers
    inert: Callable[[Any], bool] | None = None  # values that ask for nothing beyond the default


def _equals(default: Any) -> Callable[[Any], bool]:
    return lambda value: value == default


def _text_only(value: Any) -> bool:
    return isinstance(value, list) and all(m == "text" for m in value)


def param_policies() -> dict[str, ParamPolicy]:
    """The table, by chat-completions name."""
    hint = "a sampling hint: the answer is still valid without it, so it is reported, not refused"
    no_effect = "it does not change the answer"
    return {
        # Emulated by the bridge (server/pipeline): applied to what any backend writes.
        "stop": ParamPolicy("emulate", "the bridge cuts the answer at the first stop sequence", _equals([])),
        "response_format": ParamPolicy(
            "emulate", "instruction in the prompt, answer validated, one repair turn", _equals({"type": "text"})
        ),
        # Reported: LangChain and most SDK wrappers send temperature & co by default, so refusing
        # them would break every such client for a hint the CLIs have no flag for.
        "temperature": ParamPolicy("ignore", hint),
        "top_p": ParamPolicy("ignore", hint),
        "presence_penalty": ParamPolicy("ignore", hint),
        "frequency_penalty": ParamPolicy("ignore", hint),
        "seed": ParamPolicy("ignore", "best effort even at OpenAI; no CLI takes one"),
        # Editors send a token budget on every request; a longer answer is still an answer.
        "max_tokens": ParamPolicy("ignore", "an upper bound the CLIs cannot set"),
        "max_completion_tokens": ParamPolicy("ignore", "an upper bound the CLIs cannot set"),
        # Copilot, Claude and the upstreams each set it their own way (executors); another
        # backend answers all the same, with its default effort.
        "reasoning_effort": ParamPolicy("ignore", "a hint; mapped per backend where one supports it"),
        "verbosity": ParamPolicy("ignore", hint),
        # Predicted outputs only speed generation up; the answer is the same without them.
        "prediction": ParamPolicy("ignore", "a latency hint; " + no_effect),
        "service_tier": ParamPolicy("ignore", "billing; " + no_effect),
        "prompt_cache_key": ParamPolicy("ignore", "caching; " + no_effect),
        "safety_identifier": ParamPolicy("ignore", "abuse tracking; " + no_effect),
        # Refused: the client would get something other than what it asked for.
        "n": ParamPolicy("refuse", "it answers with one choice; send n=1 or make separate requests", _equals(1)),
        "logprobs": ParamPolicy("refuse", "it does not report log probabilities", _equals(False)),
        "top_logprobs": ParamPolicy("refuse", "it does not report log probabilities", _equals(0)),
        "logit_bias": ParamPolicy("refuse", "it cannot bias tokens", _equals({})),
        "audio": ParamPolicy("refuse", "it produces no audio"),
        "modalities": ParamPolicy("refuse", "it produces text only; send [\"text\"]", _text_only),
        "web_search_options": ParamPolicy("refuse", "it does not search the web"),
    }


# Parameters of the chat-completions API that shape the answer (names as chat completions spells them).
OPENAI_PARAMS = frozenset(param_policies())


@dataclass(frozen=True, slots=True)
class ParamPlan:
    """What happens to each parameter a client set: passed to the backend, emulated, or ignored."""

    passed: Mapping[str, Any]
    emulated: Mapping[str, Any]
    ignored: tuple[str, ...]


def plan_params(params: Mapping[str, Any], capabilities: Capabilities) -> ParamPlan:
    """Sort the client's parameters by the table; raise InvalidRequest for one that is refused."""
    policies = param_policies()
    _check_values(params)
    passed: dict[str, Any] = {}
    emulated: dict[str, Any] = {}
    ignored: list[str] = []
    for name in sorted(params):
        value = params[name]
        policy = policies[name]
        if policy.inert is not None and policy.inert(value):
            continue
        if name in capabilities.params:
            passed[name] = value
        elif policy.action == "emulate":
            emulated[name] = value
        elif policy.action == "ignore":
            ignored.append(name)
        else:
            raise InvalidRequest(
                f"'{name}' is not supported by this backend: {policy.why}",
                # Refused for this value (n=2) or as a whole (audio): OpenAI's two codes.
                code="unsupported_value" if policy.inert is not None else "unsupported_parameter",
                param=name,
            )
    return ParamPlan(passed, emulated, tuple(ignored))


def _check_values(params: Mapping[str, Any]) -> None:
    effort = params.get("reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        raise InvalidRequest(
            f"'reasoning_effort' must be one of {', '.join(REASONING_EFFORTS)}, not {effort!r}",
            code="invalid_value", param="reasoning_effort",
        )
