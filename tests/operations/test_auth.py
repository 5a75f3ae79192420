"""API keys: who gets in, what a refusal looks like, and that keys never reach a log file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.middleware.auth import key_matches
from tests.conftest import MakeClient

KEYS = ("sk-bridge-first-0123456789", "sk-bridge-second-9876543210")


async def test_missing_and_wrong_keys_get_openai_401(make_client: MakeClient) -> None:
    client = await make_client(api_keys=KEYS, services=("copilot",))
    for headers in ({}, {"Authorization": "Bearer nope"}, {"x-api-key": "nope"}, {"Authorization": f"Basic {KEYS[0]}"}):
        resp = await client.get("/v1/models", headers=headers)
        assert resp.status == 401, headers
        error = (await resp.json())["error"]
        assert error["type"] == "authentication_error" and error["code"] == "invalid_api_key"
        assert set(error) == {"message", "type", "param", "code"}
        assert resp.headers["WWW-Authenticate"] == "Bearer"
        assert resp.headers["X-Request-Id"]


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
async def test_every_configured_key_works_in_either_header(make_client: MakeClient, header: str) -> None:
    client = await make_client(api_keys=KEYS, services=("copilot",))
    for key in KEYS:
        headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"x-api-key": key}
        resp = await client.get("/v1/models", headers=headers)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["object"] == "list"


async def test_health_and_preflight_stay_open(make_client: MakeClient) -> None:
    client = await make_client(api_keys=KEYS, services=("copilot",), cors_origins=("https://app.example",))
    assert (await client.get("/health")).status in (200, 503)  # open: not 401, whatever the CLIs say
    preflight = await client.options("/v1/chat/completions", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert preflight.status == 204
    assert (await client.post("/v1/chat/completions", json={})).status == 401


async def test_odd_header_bytes_are_a_401_not_a_crash(make_client: MakeClient) -> None:
    client = await make_client(api_keys=KEYS, services=("copilot",))
    resp = await client.get("/v1/models", headers={"x-api-key": "k\u00e9y-\u00ff"})
    assert resp.status == 401


def test_key_matches_only_exact_keys() -> None:
    assert key_matches(KEYS[1], KEYS)
    assert not key_matches(KEYS[1][:-1], KEYS)
    assert not key_matches(KEYS[1] + "x", KEYS)
    assert not key_matches("", KEYS)
    assert not key_matches(KEYS[0], ())


async def test_request_logs_redact_keys(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(api_keys=KEYS, services=("copilot",), log_requests=True, log_request_body=True)
    for headers in ({"Authorization": f"Bearer {KEYS[0]}"}, {"x-api-key": KEYS[1]}, {"x-api-key": "sk-wrong-guess-123"}):
        await client.get("/v1/models", headers=headers)
    await client.close()  # flushes the request-log writer
    files = list((tmp_path / "logs" / "requests").rglob("*.json"))
    assert len(files) == 3
    text = "".join(f.read_text() for f in files)
    for secret in (*KEYS, "sk-wrong-guess-123"):
        assert secret not in text
    headers = [json.loads(f.read_text())["headers"] for f in files]
    assert sorted(h.get("Authorization", h.get("x-api-key")) for h in headers) == ["[redacted]"] * 3
