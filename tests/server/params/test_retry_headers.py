"""x-should-retry: errors a retry cannot fix tell the openai SDKs not to retry; the rest stay retryable."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import MakeClient, cli_records, scenario
from tests.server.params.param_helpers import MODELS, sdk_for


async def test_auth_failure_runs_the_cli_once_under_default_sdk_retries(client: TestClient, record_dir: Path) -> None:
    async with sdk_for(client) as sdk:  # max_retries=2
        for model in MODELS:
            with pytest.raises(openai.InternalServerError) as failed:
                await sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": scenario("auth")}])
            assert failed.value.status_code == 503 and failed.value.response.headers["x-should-retry"] == "false"
            assert "login" in failed.value.message.lower()
    assert len(cli_records(record_dir)) == 2  # one run per backend, not three


async def test_a_crash_stays_retryable(client: TestClient, record_dir: Path) -> None:
    async with sdk_for(client, max_retries=1) as sdk:
        with pytest.raises(openai.InternalServerError) as failed:
            await sdk.chat.completions.create(model="copilot/gpt-5.4", messages=[{"role": "user", "content": scenario("exit")}])
    assert "x-should-retry" not in failed.value.response.headers
    assert len(cli_records(record_dir)) == 2  # the SDK retried


async def test_rejected_model_and_missing_cli_say_do_not_retry(make_client: MakeClient, record_dir: Path) -> None:
    config = {"COPILOT_CLI_PATH": str(record_dir / "no-such-copilot"), "COPILOT_MODELS": "gpt-5.4", "CLAUDE_MODELS": "sonnet,invalid-model"}
    client = await make_client(config=config)
    async with sdk_for(client) as sdk:
        with pytest.raises(openai.NotFoundError) as rejected:  # the CLI itself rejects the model
            await sdk.chat.completions.create(model="claude/invalid-model", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.InternalServerError) as missing:
            await sdk.chat.completions.create(model="copilot/gpt-5.4", messages=[{"role": "user", "content": "hi"}])
    assert rejected.value.code == "model_not_found" and rejected.value.response.headers["x-should-retry"] == "false"
    assert len(cli_records(record_dir)) == 1
    assert missing.value.code == "copilot_spawn_error" and missing.value.response.headers["x-should-retry"] == "false"
