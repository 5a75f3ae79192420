"""The HTTP API through pytest-aiohttp: wire format, validation, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import MakeClient, cli_records, scenario
from tests.server.sse_helpers import read_events


def chat(content: str = "Say hi", **extra: Any) -> dict[str, Any]:
    return {"model": "copilot/gpt-5.4", "messages": [{"role": "user", "content": content}], **extra}


def assert_error(body: dict[str, Any], code: str | None) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


async def test_models_list_prefixes_backends(client: TestClient) -> None:
    resp = await client.get("/v1/models")
    body = await resp.json()
    assert resp.status == 200 and body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert "copilot/gpt-5.4" in ids and "claude/sonnet" in ids
    owners = {m["id"]: m["owned_by"] for m in body["data"]}
    assert owners["copilot/gpt-5.4"] == "openai" and owners["claude/sonnet"] == "anthropic"
    assert owners["copilot/claude-sonnet-5"] == "anthropic"
    assert all(m["object"] == "model" and isinstance(m["created"], int) for m in body["data"])


async def test_model_by_id_and_unknown(client: TestClient) -> None:
    resp = await client.get("/v1/models/claude/sonnet")
    assert resp.status == 200 and (await resp.json())["id"] == "claude/sonnet"
    resp = await client.get("/v1/models/nope")
    assert resp.status == 404
    assert_error(await resp.json(), "model_not_found")


async def test_models_can_be_overridden(make_client: MakeClient) -> None:
    client = await make_client(config={"COPILOT_MODELS": "my-model"}, services=("copilot",))
    ids = [m["id"] for m in (await (await client.get("/v1/models")).json())["data"]]
    assert ids == ["copilot/my-model"]


async def test_non_stream_completion(client: TestClient) -> None:
    resp = await client.post("/v1/chat/completions", json=chat())
    body = await resp.json()
    assert resp.status == 200, body
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "copilot/gpt-5.4"
    (choice,) = body["choices"]
    assert choice == {
        "index": 0,
        "message": {"role": "assistant", "content": "Hello from mock.", "refusal": None},
        "logprobs": None,
        "finish_reason": "stop",
    }
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert resp.headers["X-Request-Id"]


async def test_stream_wire_format(client: TestClient) -> None:
    resp = await client.post("/v1/chat/completions", json=chat(stream=True, stream_options={"include_usage": True}))
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    events = await read_events(resp)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all("role" not in c["choices"][0]["delta"] for c in chunks[1:] if c["choices"])
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert finishes == ["stop"]
    with_choices = [c for c in chunks if c["choices"]]
    assert with_choices[-1]["choices"][0]["finish_reason"] == "stop" and with_choices[-1]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert all(c["usage"] is None for c in chunks[:-1])
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in with_choices)
    assert text == "Hello from mock."


async def test_stream_without_include_usage_has_no_usage_chunk(client: TestClient) -> None:
    events = await read_events(await client.post("/v1/chat/completions", json=chat(stream=True)))
    assert all(e["choices"] and "usage" not in e for e in events[:-1])


async def test_validation_errors(client: TestClient) -> None:
    cases: list[tuple[Any, int, str]] = [
        ({"model": "copilot/gpt-5.4"}, 400, "missing_messages"),
        ({"model": "copilot/gpt-5.4", "messages": []}, 400, "missing_messages"),
        ({"model": 5, "messages": [{"role": "user", "content": "x"}]}, 400, "invalid_model"),
        ({"model": "--yolo", "messages": [{"role": "user", "content": "x"}]}, 404, "model_not_found"),
        ({"model": "copilot/gpt-5.4", "messages": [{"role": "wizard", "content": "x"}]}, 400, "invalid_request"),
        (
            {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            400,
            "invalid_image_url",
        ),
        (
            {"model": "copilot/gpt-5.4", "stream": True, "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
            400,
            "unsupported_content_type",
        ),
    ]
    for body, status, code in cases:
        resp = await client.post("/v1/chat/completions", json=body)
        assert resp.status == status, body
        assert resp.headers["Content-Type"].startswith("application/json")
        assert_error(await resp.json(), code)


async def test_flag_like_model_never_spawns(client: TestClient, record_dir: Path) -> None:
    resp = await client.post("/v1/chat/completions", json={"model": "--yolo", "messages": [{"role": "user", "content": "x"}]})
    assert resp.status == 404
    assert list(record_dir.iterdir()) == []


async def test_bad_json_and_unknown_route(client: TestClient) -> None:
    resp = await client.post("/v1/chat/completions", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert_error(await resp.json(), "invalid_json")
    resp = await client.get("/v1/nothing")
    assert resp.status == 404
    assert_error(await resp.json(), "not_found")
    resp = await client.get("/v1/chat/completions")
    assert resp.status == 405
    assert_error(await resp.json(), "method_not_allowed")


async def test_content_parts_and_system_prompt_reach_the_cli(client: TestClient, record_dir: Path) -> None:
    body = {
        "model": "copilot/gpt-5.4",
        "messages": [
            {"role": "system", "content": "SYS-ONE"},
            {"role": "developer", "content": [{"type": "text", "text": "SYS-TWO"}]},
            {"role": "user", "content": [{"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}]},
        ],
    }
    resp = await client.post("/v1/chat/completions", json=body)
    assert resp.status == 200
    (record,) = cli_records(record_dir)
    assert record["files"]["AGENTS.md"] == "SYS-ONE\n\nSYS-TWO"
    assert record["stdin"] == "part one\npart two"


async def test_history_is_rendered_as_a_transcript(client: TestClient, record_dir: Path) -> None:
    body = {
        "model": "claude/sonnet",
        "messages": [
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": "Hello Ada."},
            {"role": "user", "content": "What is my name?"},
        ],
    }
    resp = await client.post("/v1/chat/completions", json=body)
    assert resp.status == 200
    (record,) = cli_records(record_dir)
    prompt = json.loads(record["stdin"])["message"]["content"][0]["text"]
    assert prompt.index("My name is Ada.") < prompt.index("Hello Ada.") < prompt.index("What is my name?")
    assert "### User" in prompt and "### Assistant" in prompt


async def test_ignored_and_unknown_params_are_reported(client: TestClient) -> None:
    resp = await client.post("/v1/chat/completions", json=chat(temperature=0.2, n=1, seed=3, frobnicate=True))
    assert resp.status == 200
    assert resp.headers["X-Bridge-Ignored-Params"] == "seed, temperature"


async def test_cli_errors_before_streaming_are_json(client: TestClient) -> None:
    for backend, code in (("copilot", "copilot_execution_error"), ("claude", "claude_execution_error")):
        model = "copilot/gpt-5.4" if backend == "copilot" else "claude/sonnet"
        body = {"model": model, "stream": True, "messages": [{"role": "user", "content": scenario("auth")}]}
        resp = await client.post("/v1/chat/completions", json=body)
        assert resp.status == 503
        err = await resp.json()
        assert_error(err, code)
        assert "login" in err["error"]["message"].lower()


async def test_model_rejected_by_cli_is_404(client: TestClient) -> None:
    resp = await client.post("/v1/chat/completions", json=chat(scenario("model_error")))
    assert resp.status == 404
    assert_error(await resp.json(), "model_not_found")


async def test_missing_cli_is_spawn_error(make_client: MakeClient) -> None:
    client = await make_client(config={"COPILOT_CLI_PATH": "/nonexistent/copilot"})
    resp = await client.post("/v1/chat/completions", json=chat())
    assert resp.status == 503
    assert_error(await resp.json(), "copilot_spawn_error")


async def test_crash_mid_stream_is_an_in_stream_error(client: TestClient) -> None:
    resp = await client.post("/v1/chat/completions", json=chat(scenario("crash"), stream=True))
    assert resp.status == 200
    events = await read_events(resp)
    assert events[-1] == "[DONE]"
    assert events[-2]["error"]["code"] == "copilot_execution_error"
    assert events[1]["choices"][0]["delta"]["content"] == "Hello"


async def test_bare_model_ids_follow_service_order(make_client: MakeClient, record_dir: Path) -> None:
    client = await make_client(services=("claude", "copilot"))
    resp = await client.post("/v1/chat/completions", json={"model": "sonnet", "messages": [{"role": "user", "content": "x"}]})
    assert resp.headers["X-Bridge-Backend"] == "claude"
    resp = await client.post("/v1/chat/completions", json={"model": "gpt-5.4", "messages": [{"role": "user", "content": "x"}]})
    assert resp.headers["X-Bridge-Backend"] == "copilot"
    assert (await resp.json())["model"] == "copilot/gpt-5.4"


async def test_default_model_when_none_given(make_client: MakeClient) -> None:
    client = await make_client(default_model="claude/haiku")
    resp = await client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]})
    assert resp.status == 200 and (await resp.json())["model"] == "claude/haiku"


async def test_health_reports_each_backend(client: TestClient) -> None:
    resp = await client.get("/health")
    body = await resp.json()
    assert set(body["backends"]) == {"copilot", "claude"}
    assert body["backends"]["copilot"]["cli_found"] is True
    assert "1.0.102" in body["backends"]["copilot"]["version"]
    assert body["backends"]["claude"]["authenticated"] is False
    assert body["status"] == "degraded"


async def test_health_without_clis_is_unavailable(make_client: MakeClient) -> None:
    client = await make_client(config={"COPILOT_CLI_PATH": "/none/copilot", "CLAUDE_CLI_PATH": "/none/claude"})
    resp = await client.get("/health")
    assert resp.status == 503 and (await resp.json())["status"] == "unavailable"


async def test_health_auth_hint_reads_logins_not_first_run_files(make_client: MakeClient, cli_env: dict[str, str]) -> None:
    config = Path(cli_env["HOME"]) / ".copilot" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text('// managed\n{\n  "firstLaunchAt": "2026-11-23T03:20:38.725Z"\n}\n')
    client = await make_client(services=("copilot",))
    assert (await (await client.get("/health")).json())["backends"]["copilot"]["authenticated"] is False
    config.write_text('{"lastLoggedInUser": {"host": "https://github.com", "login": "ada"}}')
    client = await make_client(services=("copilot",))
    copilot = (await (await client.get("/health")).json())["backends"]["copilot"]
    assert copilot["authenticated"] is True and copilot["auth_source"] == str(config)
    client = await make_client(services=("copilot",), env={"COPILOT_GITHUB_TOKEN": "github_pat_secret"})
    body = await (await client.get("/health")).text()
    assert "COPILOT_GITHUB_TOKEN" in body and "github_pat_secret" not in body


async def test_prompts_beyond_the_argv_limit_reach_the_cli(client: TestClient, record_dir: Path) -> None:
    big = "word " * 100_000  # 500 KB: one argv element may hold at most 128 KB on Linux
    for model in ("copilot/gpt-5.4", "claude/sonnet"):
        resp = await client.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": big}]})
        assert resp.status == 200, await resp.text()
    stdins = sorted(len(r["stdin"]) for r in cli_records(record_dir))
    assert stdins[0] == len(big) and stdins[1] > len(big)  # copilot: the text itself; claude: a JSON message holding it
