"""LOG_REQUESTS: one JSON file per request, bodies only on request, safe names, old days pruned."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from server.middleware.request_log import log_file_name, prune_request_logs
from tests.conftest import MakeClient, scenario

CHAT = {"model": "copilot/gpt-5.4", "messages": [{"role": "user", "content": scenario("ok")}]}


def records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((tmp_path / "logs" / "requests").rglob("*.json"))]


async def test_one_file_per_request_with_the_facts(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(services=("copilot",))
    plain = await client.post("/v1/chat/completions", json=CHAT, headers={"X-Request-Id": "req_plain1"})
    streamed = await client.post("/v1/chat/completions", json={**CHAT, "stream": True}, headers={"X-Request-Id": "req_stream1"})
    assert (await streamed.read()).endswith(b"data: [DONE]\n\n")
    usage = (await plain.json())["usage"]
    await client.close()
    today = datetime.now(UTC).date().isoformat()
    folder = tmp_path / "logs" / "requests" / today
    assert sorted(p.name for p in folder.iterdir()) == ["req-plain1.json", "req-stream1.json"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in folder.iterdir())
    by_id = {r["request_id"]: r for r in records(tmp_path)}
    plain_rec, stream_rec = by_id["req_plain1"], by_id["req_stream1"]
    for rec in (plain_rec, stream_rec):
        assert rec["method"] == "POST" and rec["path"] == "/v1/chat/completions"
        assert rec["status"] == 200 and rec["model"] == "copilot/gpt-5.4" and rec["messages"] == 1
        assert rec["client"] == "127.0.0.1" and rec["duration_ms"] > 0
        assert datetime.fromisoformat(rec["ended_at"]) >= datetime.fromisoformat(rec["started_at"])
        assert rec["temp_dir_base"] == str(tmp_path / "bridge-tmp")
        assert Path(rec["temp_dir"]).parent == tmp_path / "bridge-tmp"  # the request's own (now removed) dir
        assert not Path(rec["temp_dir"]).exists()
        assert "request_body" not in rec and "response_body" not in rec
    assert plain_rec["stream"] is False and plain_rec["usage"] == usage
    assert stream_rec["stream"] is True and stream_rec["streamed"] is True
    assert stream_rec["usage"]["total_tokens"] > 0 and stream_rec["cancelled"] is False


async def test_bodies_only_when_asked(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(services=("copilot",), log_request_body=True, log_response_body=True)
    resp = await client.post("/v1/chat/completions", json=CHAT)
    answer = await resp.json()
    await client.close()
    (rec,) = records(tmp_path)
    assert rec["request_body"] == CHAT
    assert rec["response_body"] == answer


async def test_errors_are_recorded(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(services=("copilot",), api_keys=("sk-some-key-123456",), log_request_body=True)
    assert (await client.post("/v1/chat/completions", json=CHAT)).status == 401
    await client.close()
    (rec,) = records(tmp_path)
    assert rec["status"] == 401 and rec["error"]["type"] == "authentication_error"
    assert rec["request_body"] is None  # never read a body the handler refused


async def test_off_means_no_files(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(services=("copilot",), log_requests=False)
    assert (await client.get("/v1/models")).status == 200
    await client.close()
    assert not (tmp_path / "logs" / "requests").exists()


def test_file_names_are_safe_whatever_the_client_sends() -> None:
    assert log_file_name("req_abc123") == "req-abc123.json"
    for hostile in ("../../etc/passwd", "..", "a/b\\c", ".hidden", "x" * 64):
        name = log_file_name(hostile)
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert Path("/base", name).parent == Path("/base")


async def test_hostile_request_id_stays_inside_the_day_dir(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(services=("copilot",))
    for _ in range(2):  # the same id twice must not overwrite
        await client.get("/v1/models", headers={"X-Request-Id": "../../escape"})
    await client.close()
    files = list((tmp_path / "logs").rglob("*.json"))
    assert len(files) == 2 and all(f.parent.parent == tmp_path / "logs" / "requests" for f in files)


def test_prune_keeps_retention_days(tmp_path: Path) -> None:
    today = date(2026, 3, 15)
    for offset in range(20):
        (tmp_path / (today - timedelta(days=offset)).isoformat()).mkdir()
    (tmp_path / "not-a-day").mkdir()
    assert prune_request_logs(tmp_path, keep_days=14, today=today) == 6
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept[0] == (today - timedelta(days=13)).isoformat() and "not-a-day" in kept and len(kept) == 15


async def test_old_days_pruned_at_start_up(make_client: MakeClient, tmp_path: Path) -> None:
    root = tmp_path / "logs" / "requests"
    today = datetime.now(UTC).date()
    old, recent = root / (today - timedelta(days=30)).isoformat(), root / (today - timedelta(days=2)).isoformat()
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "req-x.json").write_text("{}")
    await make_client(services=("copilot",), log_retention_days=7)
    for _ in range(250):
        if not old.exists():
            break
        await asyncio.sleep(0.02)
    assert not old.exists() and recent.exists()
