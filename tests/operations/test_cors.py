"""CORS: preflights from allowed origins, allow headers on JSON, error and streamed responses."""

from __future__ import annotations

from collections.abc import Mapping

from tests.conftest import MakeClient, scenario

ORIGIN = "https://app.example"
CHAT = {"model": "copilot/gpt-5.4", "messages": [{"role": "user", "content": scenario("ok")}]}


def vary(headers: Mapping[str, str]) -> list[str]:
    return [v.strip().lower() for v in headers.get("Vary", "").split(",") if v.strip()]


async def test_preflight_from_allowed_origin(make_client: MakeClient) -> None:
    client = await make_client(cors_origins=(ORIGIN, "https://other.example"), services=("copilot",))
    resp = await client.options("/v1/chat/completions", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-stainless-os, bad header",
    })
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
    methods = {m.strip() for m in resp.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "POST", "DELETE", "OPTIONS"}
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-api-key", "x-request-id", "x-stainless-os"} <= allowed
    assert "bad header" not in allowed
    assert "origin" in vary(resp.headers)


async def test_preflight_from_other_origin_gets_no_allow(make_client: MakeClient) -> None:
    client = await make_client(cors_origins=(ORIGIN,), services=("copilot",))
    resp = await client.options("/v1/chat/completions", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert resp.status == 405
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_json_error_and_stream_responses_carry_allow_origin(make_client: MakeClient) -> None:
    client = await make_client(cors_origins=(ORIGIN,), api_keys=("sk-cors-key-123456",), services=("copilot",))
    auth = {"Origin": ORIGIN, "Authorization": "Bearer sk-cors-key-123456"}
    plain = await client.post("/v1/chat/completions", json=CHAT, headers=auth)
    unauthorized = await client.post("/v1/chat/completions", json=CHAT, headers={"Origin": ORIGIN})
    stream = await client.post("/v1/chat/completions", json={**CHAT, "stream": True}, headers=auth)
    assert (plain.status, unauthorized.status, stream.status) == (200, 401, 200)
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert (await stream.read()).endswith(b"data: [DONE]\n\n")
    for resp in (plain, unauthorized, stream):
        assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "origin" in vary(resp.headers)
        exposed = {h.strip().lower() for h in resp.headers["Access-Control-Expose-Headers"].split(",")}
        assert "x-request-id" in exposed
        assert resp.headers["X-Request-Id"]
    for resp in (plain, stream):
        exposed = {h.strip().lower() for h in resp.headers["Access-Control-Expose-Headers"].split(",")}
        assert "x-bridge-backend" in exposed and resp.headers["X-Bridge-Backend"] == "copilot"


async def test_wildcard_and_disabled(make_client: MakeClient) -> None:
    anyone = await make_client(cors_origins=("*",), services=("copilot",))
    resp = await anyone.get("/v1/models", headers={"Origin": "https://whoever.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    closed = await make_client(services=("copilot",))
    resp = await closed.get("/v1/models", headers={"Origin": ORIGIN})
    assert resp.status == 200
    assert "Access-Control-Allow-Origin" not in resp.headers and "origin" not in vary(resp.headers)
    listed = await make_client(cors_origins=(ORIGIN,), services=("copilot",))
    resp = await listed.get("/v1/models", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers and "origin" in vary(resp.headers)
