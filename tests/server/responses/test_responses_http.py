"""POST /v1/responses over HTTP with the fake CLIs: answers, streams event by event, errors, headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import MakeClient, cli_records, scenario, wait_for
from tests.executors.test_contract import pid_alive
from tests.openapi.hooks import checked_session
from tests.server.dialect_replies import REPLIES
from tests.server.responses.responses_helpers import WEATHER, kinds, output_text, read_events

MODELS = ["copilot/gpt-5.4", "claude/sonnet"]


def ask(text: str, model: str = "copilot/gpt-5.4", **fields: Any) -> dict[str, Any]:
    return {"model": model, "input": text, **fields}


@pytest.mark.parametrize("model", MODELS)
async def test_non_stream_answer(client: TestClient, model: str) -> None:
    resp = await client.post("/v1/responses", json=ask("Say hi [[fake:reply=Hi from the bridge.]]", model))
    assert resp.status == 200 and resp.headers["X-Bridge-Backend"] == model.split("/")[0]
    body = await resp.json()
    assert body["object"] == "response" and body["id"].startswith("resp_") and body["status"] == "completed"
    assert body["model"] == model and output_text(body) == "Hi from the bridge."
    (message,) = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant" and message["id"].startswith("msg_")
    usage = body["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert (body["store"], body["previous_response_id"], body["tools"], body["tool_choice"]) == (True, None, [], "auto")


@pytest.mark.parametrize("model", MODELS)
async def test_stream_text_event_by_event(client: TestClient, model: str) -> None:
    resp = await client.post("/v1/responses", json=ask(scenario("ok", reply="one two three", chunks=3), model, stream=True))
    events = await read_events(resp)
    assert kinds(events) == [
        "created", "in_progress", "output_item.added", "content_part.added",
        "output_text.delta", "output_text.delta", "output_text.delta",
        "output_text.done", "content_part.done", "output_item.done", "completed",
    ]
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "one two three"
    final = events[-1]["response"]
    assert output_text(final) == "one two three" and final["usage"]["output_tokens"] > 0
    stored = await client.get(f"/v1/responses/{final['id']}")
    assert await stored.json() == final


@pytest.mark.parametrize(("model", "dialect"), [("copilot/gpt-5.4", "hermes"), ("claude/sonnet", "claude_xml")])
async def test_stream_tool_call_event_by_event(client: TestClient, tmp_path: Path, model: str, dialect: str) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text(REPLIES[dialect], encoding="utf-8")
    body = ask(f"Weather in Paris? [[fake:reply_file={reply}]] [[fake:chunks=9]]", model, stream=True, tools=[WEATHER])
    events = await read_events(await client.post("/v1/responses", json=body))
    types = kinds(events)
    call_start = types.index("output_item.added", types.index("output_item.done"))
    assert types[:call_start] == ["created", "in_progress", "output_item.added", "content_part.added",
                                  *["output_text.delta"] * (call_start - 7), "output_text.done", "content_part.done",
                                  "output_item.done"]
    assert types[call_start + 1:-3] == ["function_call_arguments.delta"] * (len(types) - call_start - 4)
    assert types[-3:] == ["function_call_arguments.done", "output_item.done", "completed"]
    message, call = events[-1]["response"]["output"]
    assert message["content"][0]["text"].strip() == "Let me check."
    assert call["type"] == "function_call" and call["name"] == "get_weather" and call["call_id"].startswith("call_")
    assert json.loads(call["arguments"]) == {"city": "Paris", "days": 3}
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
    assert json.loads(deltas) == json.loads(call["arguments"])


async def test_instructions_and_developer_messages_reach_the_system_prompt(client: TestClient, record_dir: Path) -> None:
    body = {"model": "claude/sonnet", "instructions": "INSTRUCTIONS-MARKER", "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "DEVELOPER-MARKER"}]},
        {"role": "user", "content": "hi"}]}
    assert (await client.post("/v1/responses", json=body)).status == 200
    (record,) = cli_records(record_dir)
    system = record["system_prompt_file_content"]
    assert system.index("INSTRUCTIONS-MARKER") < system.index("DEVELOPER-MARKER")
    assert json.loads(record["stdin"])["message"]["content"][0]["text"] == "hi"


async def test_codex_shaped_request_is_accepted(client: TestClient, tmp_path: Path, record_dir: Path) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text('<tool_call>{"name": "multi_agent_v1__wait_agent", "arguments": {"id": "a1"}}</tool_call>', encoding="utf-8")
    body = {
        "model": "copilot/gpt-5.4", "stream": True, "store": False, "tool_choice": "auto", "parallel_tool_calls": True,
        "reasoning": {"summary": "auto"}, "include": ["reasoning.encrypted_content"], "prompt_cache_key": "thread-1",
        "client_metadata": {"thread_id": "t"},
        "input": [
            {"type": "message", "id": "msg_c88933dd-uuid", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"wait [[fake:reply_file={reply}]]"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "…"}], "content": None, "encrypted_content": None},
            {"type": "function_call", "status": "completed", "id": "fc_0001", "name": "exec_command",
             "arguments": '{"cmd":"ls"}', "call_id": "call_0001"},
            {"type": "function_call_output", "id": "fco_1", "call_id": "call_0001", "output": "README.md\n"},
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"},
        ],
        "tools": [
            {"type": "function", "name": "exec_command", "strict": False, "description": "Run a shell command",
             "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"],
                            "additionalProperties": False}},
            {"type": "namespace", "name": "multi_agent_v1", "description": "agents", "tools": [
                {"type": "function", "name": "wait_agent", "strict": False, "parameters": {
                    "type": "object", "properties": {"id": {"type": "string"}}}}]},
            {"type": "web_search", "external_web_access": True},
        ],
    }
    resp = await client.post("/v1/responses", json=body)
    events = await read_events(resp)
    assert resp.headers["X-Bridge-Ignored-Tools"] == "web_search"
    (call,) = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert (call["namespace"], call["name"], json.loads(call["arguments"])) == ("multi_agent_v1", "wait_agent", {"id": "a1"})
    assert (await client.get(f"/v1/responses/{events[-1]['response']['id']}")).status == 404  # store: false
    (record,) = cli_records(record_dir)
    system = record["files"]["AGENTS.md"]  # Copilot reads its system prompt from AGENTS.md
    assert system.startswith("You are Codex.") and "multi_agent_v1__wait_agent" in system and "web_search" not in system
    assert "README.md" in record["prompt"] and "exec_command" in record["prompt"] and "apply_patch" not in record["prompt"]


async def test_ignored_parameters_are_reported_in_the_clients_words(client: TestClient) -> None:
    # reasoning.effort is honoured (Copilot's --reasoning-effort): not in the list.
    body = {**ask("hi", max_output_tokens=20, reasoning={"effort": "low"}, max_tool_calls=2), "text": {"verbosity": "low"}}
    resp = await client.post("/v1/responses", json=body)
    assert resp.status == 200
    assert resp.headers["X-Bridge-Ignored-Params"] == "max_output_tokens, max_tool_calls, text.verbosity"


async def test_silent_cli_gets_in_progress_events(make_client: MakeClient) -> None:
    client = await make_client(keepalive_s=0.3)
    resp = await client.post("/v1/responses", json=ask(scenario("slow", delay=1.2, chunks=2), stream=True))
    events = await read_events(resp)
    first_item = kinds(events).index("output_item.added")
    assert kinds(events)[:first_item] == ["created", *["in_progress"] * (first_item - 1)]
    assert first_item >= 4  # at least three in_progress events while the CLI was silent
    assert events[-1]["type"] == "response.completed" and output_text(events[-1]["response"]) == "Hello from mock."


async def test_crash_mid_stream_ends_with_error_then_failed(client: TestClient) -> None:
    resp = await client.post("/v1/responses", json=ask(scenario("crash"), stream=True))
    events = await read_events(resp)
    assert kinds(events)[-2:] == ["error", "failed"]
    assert events[-2]["code"] == "copilot_execution_error" and events[-2]["message"]
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"
    assert "Hello" in [e.get("delta") for e in events]
    assert (await client.get(f"/v1/responses/{failed['id']}")).status == 404  # a failed response is not kept


async def test_errors_before_the_stream_are_json(client: TestClient) -> None:
    resp = await client.post("/v1/responses", json=ask("hi", "nope/model", stream=True))
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "model_not_found"
    resp = await client.post("/v1/responses", json={"model": "copilot/gpt-5.4", "input": [{"role": "robot", "content": "x"}]})
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "input[0].role")
    resp = await client.post("/v1/responses", json=ask("hi", previous_response_id="resp_unknown"))
    assert resp.status == 404
    assert (await resp.json())["error"] == {"message": "no response with id 'resp_unknown'", "type": "invalid_request_error",
                                            "param": "previous_response_id", "code": "response_not_found"}
    resp = await client.post("/v1/responses", data=b"{not json")
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_json"


async def test_store_false_keeps_nothing(client: TestClient) -> None:
    body = await (await client.post("/v1/responses", json=ask("hi", store=False))).json()
    assert body["store"] is False
    assert (await client.get(f"/v1/responses/{body['id']}")).status == 404
    resp = await client.post("/v1/responses", json=ask("again", previous_response_id=body["id"]))
    assert resp.status == 404


async def test_get_delete_and_input_items_pages(client: TestClient) -> None:
    items = [{"role": "user", "content": f"message {i}"} for i in range(5)]
    created = await (await client.post("/v1/responses", json={"model": "copilot/gpt-5.4", "input": items})).json()
    rid = created["id"]
    assert await (await client.get(f"/v1/responses/{rid}")).json() == created
    page = await (await client.get(f"/v1/responses/{rid}/input_items")).json()
    texts = [i["content"][0]["text"] for i in page["data"]]
    assert texts == [f"message {i}" for i in (4, 3, 2, 1, 0)]  # newest first by default
    assert (page["object"], page["has_more"], page["first_id"], page["last_id"]) == (
        "list", False, page["data"][0]["id"], page["data"][-1]["id"])
    first = await (await client.get(f"/v1/responses/{rid}/input_items", params={"order": "asc", "limit": "2"})).json()
    assert [i["content"][0]["text"] for i in first["data"]] == ["message 0", "message 1"] and first["has_more"] is True
    rest = await (await client.get(f"/v1/responses/{rid}/input_items",
                                   params={"order": "asc", "limit": "2", "after": first["last_id"]})).json()
    assert [i["content"][0]["text"] for i in rest["data"]] == ["message 2", "message 3"] and rest["has_more"] is True
    bad = await client.get(f"/v1/responses/{rid}/input_items", params={"limit": "0"})
    assert bad.status == 400 and (await bad.json())["error"]["param"] == "limit"
    deleted = await client.delete(f"/v1/responses/{rid}")
    assert await deleted.json() == {"id": rid, "object": "response.deleted", "deleted": True}
    for method, path in [("GET", rid), ("DELETE", rid), ("GET", f"{rid}/input_items")]:
        resp = await client.request(method, f"/v1/responses/{path}")
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "response_not_found"


KEY_A, KEY_B = "sk-owner-a-0123456789", "sk-owner-b-0123456789"


async def test_a_stored_response_belongs_to_the_key_that_made_it(make_client: MakeClient) -> None:
    client = await make_client(api_keys=(KEY_A, KEY_B))
    a, b = {"Authorization": f"Bearer {KEY_A}"}, {"x-api-key": KEY_B}
    rid = (await (await client.post("/v1/responses", json=ask("hi"), headers=a)).json())["id"]
    for method, path in [("GET", rid), ("GET", f"{rid}/input_items"), ("DELETE", rid)]:
        assert (await client.request(method, f"/v1/responses/{path}", headers=b)).status == 404
    resp = await client.post("/v1/responses", json=ask("go on", previous_response_id=rid), headers=b)
    assert resp.status == 404 and (await resp.json())["error"]["param"] == "previous_response_id"
    assert (await client.post("/v1/responses", json=ask("go on", previous_response_id=rid), headers=a)).status == 200
    assert (await client.get(f"/v1/responses/{rid}", headers=a)).status == 200
    assert (await client.delete(f"/v1/responses/{rid}", headers=a)).status == 200


@pytest.mark.parametrize("model", MODELS)
async def test_disconnect_mid_stream_kills_the_cli_and_stores_nothing(
    make_client: MakeClient, record_dir: Path, settings: Any, model: str
) -> None:
    client = await make_client()
    async with checked_session() as session:
        resp = await session.post(client.make_url("/v1/responses"), json=ask(scenario("hang_hard"), model, stream=True))
        head = (await resp.content.readuntil(b'"delta":"Hello"')).decode()
        assert await wait_for(lambda: any(r.get("child_pid") for r in cli_records(record_dir)))
        (record,) = cli_records(record_dir)
        assert pid_alive(record["pid"]) and pid_alive(record["child_pid"])
        resp.close()  # the client goes away mid-answer
    assert await wait_for(lambda: not pid_alive(record["pid"]) and not pid_alive(record["child_pid"]), 2.0)
    assert await wait_for(lambda: list(Path(settings.temp_dir_base).iterdir()) == [], 2.0)
    response_id = json.loads(head.split("data: ", 1)[1].split("\n", 1)[0])["response"]["id"]
    assert (await client.get(f"/v1/responses/{response_id}")).status == 404


async def test_timeout_non_stream_is_504(make_client: MakeClient, record_dir: Path) -> None:
    client = await make_client(request_timeout_ms=800)
    resp = await client.post("/v1/responses", json=ask(scenario("hang")))
    assert resp.status == 504 and (await resp.json())["error"]["code"] == "timeout"
    (record,) = cli_records(record_dir)
    assert await wait_for(lambda: not pid_alive(record["pid"]) and not pid_alive(record["child_pid"]), 2.0)
