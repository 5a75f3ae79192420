"""Parameters through the official openai SDK and the fake CLIs: refused, reported, and stop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.conftest import cli_records, scenario, wait_for
from tests.executors.backend_helpers import pid_alive
from tests.server.params.param_helpers import MODELS, answer_of

REFUSED = [
    ({"n": 2}, "n", "unsupported_value"),
    ({"logprobs": True}, "logprobs", "unsupported_value"),
    ({"top_logprobs": 3, "logprobs": True}, "logprobs", "unsupported_value"),
    ({"audio": {"voice": "alloy", "format": "wav"}, "modalities": ["text", "audio"]}, "audio", "unsupported_parameter"),
    ({"modalities": ["text", "audio"]}, "modalities", "unsupported_value"),
    ({"logit_bias": {"1234": -100}}, "logit_bias", "unsupported_value"),
    ({"web_search_options": {}}, "web_search_options", "unsupported_parameter"),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("params", "param", "code"), REFUSED)
async def test_what_no_backend_can_do_is_a_400_naming_it(
    sdk: AsyncOpenAI, record_dir: Path, params: dict[str, Any], param: str, code: str, stream: bool
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.chat.completions.create(
            model="copilot/gpt-5.4", messages=[{"role": "user", "content": "hi"}], stream=stream, **params
        )
    assert refused.value.param == param and refused.value.code == code
    assert f"'{param}'" in refused.value.message
    assert refused.value.response.headers["x-should-retry"] == "false"
    assert cli_records(record_dir) == []  # refused before anything ran


async def test_top_logprobs_alone_is_refused_too(sdk: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.chat.completions.create(model="claude/sonnet", messages=[{"role": "user", "content": "hi"}], top_logprobs=2)
    assert refused.value.param == "top_logprobs"


@pytest.mark.parametrize("model", MODELS)
async def test_sampling_hints_are_answered_and_reported(sdk: AsyncOpenAI, model: str) -> None:
    raw = await sdk.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hi"}], temperature=0.2, top_p=0.9, seed=7,
        max_tokens=100, n=1, logprobs=False, modalities=["text"], presence_penalty=0.1,
    )
    assert raw.headers["X-Bridge-Ignored-Params"] == "max_tokens, presence_penalty, seed, temperature, top_p"
    assert raw.parse().choices[0].message.content == "Hello from mock."


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
async def test_stop_sequence_cuts_the_answer(sdk: AsyncOpenAI, model: str, stream: bool) -> None:
    prompt = "Count. " + scenario("ok", reply="one two three four five", chunks=5)
    got = await answer_of(sdk, stream, model=model, messages=[{"role": "user", "content": prompt}], stop=["zzz", " thr"])
    assert got.content == "one two" and got.finish_reason == "stop"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", MODELS)
async def test_stop_ends_the_cli_run_early(sdk: AsyncOpenAI, record_dir: Path, model: str, stream: bool) -> None:
    # `hang` prints "Hello" and then never ends: only stopping the run early can answer this.
    started = time.monotonic()
    got = await answer_of(sdk, stream, model=model, messages=[{"role": "user", "content": scenario("hang")}], stop="ll")
    assert got.content == "He" and got.finish_reason == "stop"
    assert time.monotonic() - started < 10  # the request timeout is 20 s
    (record,) = cli_records(record_dir)
    assert await wait_for(lambda: not pid_alive(record["pid"]) and not pid_alive(record["child_pid"]), 5.0)
