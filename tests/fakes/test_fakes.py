"""Tests of the fake CLIs and the fake model server, and of the real CLIs against that server.

The fakes must print what the real CLIs print (tests/fakes/README.md); the `realcli` tests run the
real npm CLIs, when they can be found, against the fake model server with the bridge's argv.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from model_server import running_model_server, split_chunks
from openai import AsyncOpenAI, NotFoundError

FAKES_BIN = Path(__file__).resolve().parent / "bin"
REPO = Path(__file__).resolve().parents[2]
PROMPT = "Say hi"
HELLO_CHUNKS = ["Hello", " from", " mock."]
COPILOT_AUTH_ERROR = (
    "Error: No authentication information found.\n\nCopilot can be authenticated with GitHub "
    "using an OAuth Token or a Fine-Grained Personal Access Token.\n\nTo authenticate, you can "
    "use any of the following methods:\n  \u2022 Start 'copilot' and run the '/login' command\n"
    "  \u2022 Set the COPILOT_GITHUB_TOKEN, GH_TOKEN, or GITHUB_TOKEN environment variable\n"
    "  \u2022 Run 'gh auth login' to authenticate with the GitHub CLI\n"
)


# ---------------------------------------------------------------------------- the two CLIs


def copilot_argv(binary: str, workdir: Path, model: str = "gpt-4.1") -> list[str]:
    """Exactly what the bridge runs (prompt on stdin, AGENTS.md in cwd)."""
    return [binary, "--model", model, "--output-format", "json", "--stream", "on", "--no-color",
            "--no-auto-update", "--disable-client-telemetry", "--no-ask-user",
            "--available-tools", "__none__", "--allow-all-tools",
            "--usage-output-file", f"{workdir}/usage.json", "--log-dir", f"{workdir}/logs"]


def claude_argv(binary: str, workdir: Path, model: str = "sonnet") -> list[str]:
    """Exactly what the bridge runs (one stream-json user line on stdin)."""
    return [binary, "-p", "--input-format", "stream-json", "--output-format", "stream-json",
            "--verbose", "--include-partial-messages", "--model", model,
            "--system-prompt-file", f"{workdir}/system-prompt.txt", "--tools", "",
            "--max-turns", "1", "--setting-sources", "", "--no-session-persistence",
            "--strict-mcp-config"]


def claude_line(prompt: str) -> str:
    message = {"role": "user", "content": [{"type": "text", "text": prompt}]}
    return json.dumps({"type": "user", "message": message}) + "\n"


@dataclass(frozen=True)
class Flavor:
    """How one CLI is driven and how its events are read back."""

    name: str
    argv: Callable[[str, Path], list[str]]
    stdin: Callable[[str], str]

    def deltas(self, events: list[dict[str, Any]]) -> list[str]:
        if self.name == "copilot":
            return [e["data"]["deltaContent"] for e in events
                    if e["type"] == "assistant.message_delta"]
        return [e["event"]["delta"]["text"] for e in events if e["type"] == "stream_event"
                and e["event"]["type"] == "content_block_delta"
                and e["event"]["delta"]["type"] == "text_delta"]

    def answer(self, events: list[dict[str, Any]]) -> str | None:
        if self.name == "copilot":
            return next((e["data"]["content"] for e in events
                         if e["type"] == "assistant.message"), None)
        return next((e.get("result") for e in events if e["type"] == "result"), None)


COPILOT = Flavor("copilot", copilot_argv, lambda prompt: prompt)
CLAUDE = Flavor("claude", claude_argv, claude_line)
FLAVORS = [pytest.param(COPILOT, id="copilot"), pytest.param(CLAUDE, id="claude")]


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]


@dataclass
class Sandbox:
    """A per-test cwd (with AGENTS.md and system-prompt.txt), HOME and record dir."""

    workdir: Path
    home: Path
    records: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {"PATH": os.environ["PATH"], "HOME": str(self.home),
                "FAKE_CLI_RECORD_DIR": str(self.records), **extra}

    def record(self, cli: str, pid: int) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.records / f"{cli}-{pid}.json").read_text())
        return data


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    workdir = tmp_path / "request"
    workdir.mkdir()
    (workdir / "AGENTS.md").write_text("You are terse.\n")
    (workdir / "system-prompt.txt").write_text("You are terse.\n")
    home = tmp_path / "home"
    home.mkdir()
    return Sandbox(workdir, home, tmp_path / "records")


def run_fake(flavor: Flavor, sandbox: Sandbox, prompt: str = PROMPT, *, model: str | None = None,
             args: list[str] | None = None, stdin: str | None = None,
             env: dict[str, str] | None = None) -> Finished:
    binary = str(FAKES_BIN / flavor.name)
    argv = [binary, *args] if args is not None else (
        flavor.argv(binary, sandbox.workdir) if model is None
        else flavor.argv(binary, sandbox.workdir, model))
    done = subprocess.run(argv, cwd=sandbox.workdir, env=sandbox.env(**(env or {})),
                          input=flavor.stdin(prompt) if stdin is None else stdin,
                          capture_output=True, text=True, timeout=30, check=False)
    return Finished(done.returncode, done.stdout, done.stderr)


@contextlib.contextmanager
def spawn_fake(flavor: Flavor, sandbox: Sandbox, prompt: str) -> Iterator[subprocess.Popen[str]]:
    """Start a fake in its own process group (as the bridge does) and kill the group at the end."""
    binary = str(FAKES_BIN / flavor.name)
    with subprocess.Popen(flavor.argv(binary, sandbox.workdir), cwd=sandbox.workdir,
                          env=sandbox.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as proc:
        assert proc.stdin is not None
        proc.stdin.write(flavor.stdin(prompt))
        proc.stdin.close()
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def read_until_delta(flavor: Flavor, proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    assert proc.stdout is not None
    events: list[dict[str, Any]] = []
    while not flavor.deltas(events):
        line = proc.stdout.readline()
        assert line, "the fake ended before its first chunk"
        events.append(json.loads(line))
    return events


def alive(pid: int) -> bool:
    """True while pid runs; a zombie (nobody reaped it yet) counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


# ---------------------------------------------------------------------------- scenarios (both)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_ok_streams_the_default_reply_in_three_chunks(flavor: Flavor, sandbox: Sandbox) -> None:
    done = run_fake(flavor, sandbox)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert flavor.deltas(done.events) == HELLO_CHUNKS
    assert flavor.answer(done.events) == "Hello from mock."


@pytest.mark.parametrize("flavor", FLAVORS)
def test_directives_pick_reply_and_chunking(flavor: Flavor, sandbox: Sandbox) -> None:
    done = run_fake(flavor, sandbox, "Hi [[fake:reply=one two three four]] [[fake:chunks=2]]")
    assert flavor.deltas(done.events) == ["one two", " three four"]
    assert flavor.answer(done.events) == "one two three four"


@pytest.mark.parametrize("flavor", FLAVORS)
def test_reply_file_beats_env_reply(flavor: Flavor, sandbox: Sandbox, tmp_path: Path) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_text('<tool_call>{"name": "f", "arguments": {}}</tool_call>')
    done = run_fake(flavor, sandbox, f"[[fake:reply_file={reply}]]",
                    env={"FAKE_CLI_REPLY": "from env", "FAKE_CLI_CHUNKS": "1"})
    assert flavor.deltas(done.events) == [reply.read_text()]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_replies_file_answers_by_the_number_of_earlier_assistant_turns(
    flavor: Flavor, sandbox: Sandbox, tmp_path: Path
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["first", "second", "third"]))
    opening = f"Go [[fake:replies_file={script}]] [[fake:chunks=1]]"
    turn = "### Assistant\n(called a tool)\n\n### Tool result: t\nok"
    for earlier, expected in ((0, "first"), (1, "second"), (2, "third"), (5, "third")):
        prompt = "\n\n".join(["The conversation so far:", f"### User\n{opening}", *[turn] * earlier])
        done = run_fake(flavor, sandbox, prompt)
        assert flavor.deltas(done.events) == [expected], earlier
    # A reply directive later in the prompt (e.g. in a tool result) still wins over the script.
    done = run_fake(flavor, sandbox, f"{opening}\n{turn}\n[[fake:reply=override]]")
    assert flavor.deltas(done.events) == ["override"]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_scenario_directive_in_the_system_prompt(flavor: Flavor, sandbox: Sandbox) -> None:
    for name in ("AGENTS.md", "system-prompt.txt"):
        (sandbox.workdir / name).write_text("Be terse. [[fake:scenario=exit]]")
    assert run_fake(flavor, sandbox).returncode == 2


@pytest.mark.parametrize("flavor", FLAVORS)
def test_unknown_scenario_is_a_usage_error_of_the_fake(flavor: Flavor, sandbox: Sandbox) -> None:
    done = run_fake(flavor, sandbox, env={"FAKE_CLI_SCENARIO": "nope"})
    assert done.returncode == 64
    assert "unknown scenario 'nope'" in done.stderr


@pytest.mark.parametrize("flavor", FLAVORS)
def test_slow_first_chunk_arrives_long_before_the_end(flavor: Flavor, sandbox: Sandbox) -> None:
    started = time.monotonic()
    with spawn_fake(flavor, sandbox, "[[fake:scenario=slow]]") as proc:
        read_until_delta(flavor, proc)
        first = time.monotonic() - started
        assert proc.wait(timeout=10) == 0
    assert time.monotonic() - started - first >= 0.9  # two more chunks, 0.5 s apart


@pytest.mark.parametrize("flavor", FLAVORS)
def test_crash_dies_by_sigkill_after_one_chunk(flavor: Flavor, sandbox: Sandbox) -> None:
    done = run_fake(flavor, sandbox, "[[fake:scenario=crash]]")
    assert done.returncode == -signal.SIGKILL
    assert flavor.deltas(done.events) == ["Hello"]
    assert not [e for e in done.events if e["type"] == "result"]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_hang_dies_with_its_group_on_sigterm(flavor: Flavor, sandbox: Sandbox) -> None:
    with spawn_fake(flavor, sandbox, "[[fake:scenario=hang]]") as proc:
        read_until_delta(flavor, proc)
        record = sandbox.record(flavor.name, proc.pid)
        child = record["child_pid"]
        assert record["finished"] is False and record["pgid"] == proc.pid
        assert alive(child) and os.getpgid(child) == proc.pid
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=5) == -signal.SIGTERM
        assert wait_dead(child)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_hang_hard_ignores_sigterm_until_sigkill(flavor: Flavor, sandbox: Sandbox) -> None:
    with spawn_fake(flavor, sandbox, "[[fake:scenario=hang_hard]]") as proc:
        read_until_delta(flavor, proc)
        child = sandbox.record(flavor.name, proc.pid)["child_pid"]
        os.killpg(proc.pid, signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
        assert alive(child)
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=5) == -signal.SIGKILL
        assert wait_dead(child)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_huge_prints_one_megabyte_delta_line(flavor: Flavor, sandbox: Sandbox) -> None:
    done = run_fake(flavor, sandbox, "[[fake:scenario=huge]]")
    assert done.returncode == 0
    assert [len(d) for d in flavor.deltas(done.events)] == [1024 * 1024]
    assert max(len(line) for line in done.stdout.splitlines()) > 1024 * 1024


@pytest.mark.parametrize("flavor", FLAVORS)
def test_exit_fails_with_plain_stderr_only(flavor: Flavor, sandbox: Sandbox) -> None:
    done = run_fake(flavor, sandbox, "[[fake:scenario=exit]]")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", "fatal: something went wrong\n")


def test_copilot_auth_error_is_plain_stderr(sandbox: Sandbox) -> None:
    done = run_fake(COPILOT, sandbox, "[[fake:scenario=auth]]")
    assert (done.returncode, done.stdout, done.stderr) == (1, "", COPILOT_AUTH_ERROR)


def test_claude_auth_error_is_a_synthetic_message_and_error_result(sandbox: Sandbox) -> None:
    done = run_fake(CLAUDE, sandbox, "[[fake:scenario=auth]]")
    assert done.returncode == 1
    kinds = [(e["type"], e.get("subtype")) for e in done.events]
    assert kinds == [("system", "init"), ("system", "status"), ("assistant", None),
                     ("result", "success")]
    assert done.events[2]["error"] == "authentication_failed"
    assert done.events[2]["message"]["model"] == "<synthetic>"
    result = done.events[-1]
    assert result["is_error"] is True
    assert result["result"] == "Not logged in \u00b7 Please run /login"


def test_copilot_model_error_events(sandbox: Sandbox) -> None:
    done = run_fake(COPILOT, sandbox, model="invalid-model")
    assert done.returncode == 1
    types = [e["type"] for e in done.events]
    assert types[-9:] == ["assistant.turn_start", "model.call_start", "model.call_failure",
                          "model.call_finished", "model.call_final_result", "assistant.turn_end",
                          "session.error", "assistant.idle", "result"]
    error = next(e for e in done.events if e["type"] == "session.error")["data"]
    assert error["statusCode"] == 404 and error["message"].startswith(
        "Model 'invalid-model' not found on provider at ")
    assert done.events[-1]["exitCode"] == 1


def test_claude_model_error_result(sandbox: Sandbox) -> None:
    done = run_fake(CLAUDE, sandbox, "[[fake:scenario=model_error]]", model="mythos")
    assert done.returncode == 1
    result = done.events[-1]
    assert result["is_error"] is True and result["api_error_status"] == 404
    assert result["result"] == (
        "There's an issue with the selected model (mythos). It may not exist or you may not have "
        "access to it. Run --model to pick a different model.")


def test_claude_max_turns_result_has_no_result_field(sandbox: Sandbox) -> None:
    done = run_fake(CLAUDE, sandbox, "[[fake:scenario=max_turns]]")
    assert done.returncode == 1
    result = done.events[-1]
    assert result["subtype"] == "error_max_turns" and "result" not in result
    assert result["errors"] == ["Reached maximum number of turns (1)"]


# ---------------------------------------------------------------------------- recording


@pytest.mark.parametrize("flavor", FLAVORS)
def test_record_holds_argv_cwd_env_stdin_and_files(flavor: Flavor, sandbox: Sandbox) -> None:
    with spawn_fake(flavor, sandbox, PROMPT) as proc:
        assert proc.wait(timeout=10) == 0
    record = sandbox.record(flavor.name, proc.pid)
    assert record["argv"] == flavor.argv(str(FAKES_BIN / flavor.name), sandbox.workdir)
    assert record["cwd"] == str(sandbox.workdir)
    assert record["env"] == {"HOME": str(sandbox.home)}  # PATH and FAKE_* are not recorded
    assert record["stdin"] == flavor.stdin(PROMPT) and record["prompt"] == PROMPT
    assert record["files"]["AGENTS.md"] == "You are terse.\n"
    assert record["finished"] is True and record["exit_code"] == 0
    assert record["pid"] == record["pgid"] == proc.pid
    if flavor is CLAUDE:
        assert record["system_prompt_file_content"] == "You are terse.\n"


# ---------------------------------------------------------------------------- copilot specifics


def test_copilot_event_sequence_and_session_state(sandbox: Sandbox) -> None:
    done = run_fake(COPILOT, sandbox, "  Say hi\n\n")
    types = [e["type"] for e in done.events]
    assert types == [
        "session.skills_loaded", "session.info", "session.info", "session.mcp_servers_loaded",
        "session.tools_updated", "user.message", "assistant.turn_start", "model.call_start",
        "assistant.message_start", *["assistant.message_delta"] * 3, "model.call_finished",
        "assistant.message", "model.call_final_result", "assistant.turn_end", "assistant.idle",
        "result"]
    user = done.events[5]["data"]
    assert user["content"] == "  Say hi\n\n"
    assert re.fullmatch(r"<current_datetime>.+</current_datetime>\n\n  Say hi",
                        user["transformedContent"])
    session_id = done.events[-1]["sessionId"]
    state = sandbox.home / ".copilot" / "session-state" / session_id
    assert (state / "workspace.yaml").read_text().startswith(f"id: {session_id}\n")
    assert (state / "events.jsonl").is_file()
    usage = json.loads((sandbox.workdir / "usage.json").read_text())
    assert usage["modelMetrics"]["gpt-4.1"]["usage"]["outputTokens"] == 4
    assert list((sandbox.workdir / "logs").glob("process-*.log"))


def test_copilot_session_id_flag_names_the_session(sandbox: Sandbox) -> None:
    session_id = "136ec115-eb63-46af-8762-f90cab7080cb"
    args = [*copilot_argv("x", sandbox.workdir)[1:], f"--session-id={session_id}"]
    done = run_fake(COPILOT, sandbox, args=args, stdin=PROMPT)
    assert done.events[-1]["sessionId"] == session_id
    assert (sandbox.home / ".copilot" / "session-state" / session_id / "events.jsonl").is_file()


def test_copilot_prompt_flag_text_mode_prints_footer_on_stderr(sandbox: Sandbox) -> None:
    done = run_fake(COPILOT, sandbox, args=["-p", "hi", "--allow-all-tools"], stdin="",
                    env={"COPILOT_HOME": str(sandbox.home / "ch")})
    assert done.stdout == "Hello from mock.\n\n"
    assert re.fullmatch(r"\n\nChanges    \+0 -0\nDuration   0s\nTokens     \u2191 1 \u2022 "
                        r"\u2193 4\nResume     copilot --resume=([0-9a-f-]{36})\n", done.stderr)
    assert list((sandbox.home / "ch" / "session-state").iterdir())


def test_copilot_json_output_masks_secret_values_like_the_real_one(sandbox: Sandbox) -> None:
    done = run_fake(COPILOT, sandbox, env={"COPILOT_PROVIDER_API_KEY": "x"})
    assert '"e******itCode":0' in done.stdout


def test_copilot_empty_stdin_means_no_prompt(sandbox: Sandbox) -> None:
    done = run_fake(COPILOT, sandbox, "")
    assert done.returncode == 1
    assert done.stderr == ("No prompt provided. Run in an interactive terminal or provide a prompt "
                           "with -p or via standard in.\n")


def test_copilot_version_and_help_config_model_list(sandbox: Sandbox) -> None:
    version = run_fake(COPILOT, sandbox, args=["--version"], stdin="")
    assert version.stdout == (
        "GitHub Copilot CLI 1.0.102.\nRun 'copilot update' to check for updates.\n")
    config = run_fake(COPILOT, sandbox, args=["help", "config"], stdin="").stdout
    section = config.split("`model`:", 1)[1].split("\n\n", 1)[0]
    models = re.findall(r'^\s+- "([^"]+)"$', section, re.MULTILINE)
    assert len(models) == 31 and models[0] == "claude-sonnet-5.5" and models[-1] == "kimi-k3"


BRIDGE_USAGE = (
    "--model <model> --output-format <format> --stream <mode> --no-color --no-auto-update "
    "--disable-client-telemetry --no-ask-user --available-tools [<tools>...] --allow-all-tools")
MORE_INFO = "\n\nFor more information, try '--help'.\n"


@pytest.mark.parametrize(("extra", "stderr"), [
    (["--max-turns", "1"],
     ("error: unexpected argument '--max-turns' found\n\nUsage: copilot "
      f"{BRIDGE_USAGE} --usage-output-file <file> --log-dir <directory>{MORE_INFO}")),
    (["--system-prompt-file", "x"],
     ("error: unexpected argument '--system-prompt-file' found\n\n  tip: a similar argument "
      f"exists: '--usage-output-file'\n\nUsage: copilot {BRIDGE_USAGE} --log-dir <directory> "
      f"--usage-output-file <file>{MORE_INFO}")),
    (["--output-format", "xml"],
     ("error: invalid value 'xml' for '--output-format <format>'\n  [possible values: text, json]"
      f"{MORE_INFO}")),
    (["-p"],
     f"error: a value is required for '--prompt <text>' but none was supplied{MORE_INFO}"),
])
def test_copilot_rejects_bad_arguments_like_clap(sandbox: Sandbox, extra: list[str],
                                                 stderr: str) -> None:
    args = copilot_argv("x", Path("/tmp/x"), "M")[1:] + extra
    done = run_fake(COPILOT, sandbox, args=args, stdin="")
    assert (done.returncode, done.stdout, done.stderr) == (1, "", stderr)


# ---------------------------------------------------------------------------- claude specifics


def test_claude_event_sequence_and_usage(sandbox: Sandbox) -> None:
    done = run_fake(CLAUDE, sandbox)
    kinds = [e.get("subtype") or e.get("event", {}).get("type") or e["type"] for e in done.events]
    assert kinds == ["init", "status", "message_start", "content_block_start",
                     *["content_block_delta"] * 3, "assistant", "content_block_stop",
                     "message_delta", "message_stop", "success"]
    init, result = done.events[0], done.events[-1]
    assert init["tools"] == [] and init["cwd"] == str(sandbox.workdir)
    assert result["usage"]["input_tokens"] == 1 and result["usage"]["output_tokens"] == 4
    assert result["total_cost_usd"] == pytest.approx(1 * 3e-6 + 4 * 15e-6)
    assert '"total_cost_usd":0.000063,' in done.stdout  # written as JavaScript writes it
    assert not (sandbox.home / ".claude" / "projects").exists()


@pytest.mark.parametrize(("alias", "model"), [
    ("default", "claude-opus-4-8[1m]"), ("sonnet", "claude-sonnet-5"), ("opus", "claude-opus-4-8"),
    ("haiku", "claude-haiku-4-5-20251001"), ("fable", "claude-fable-5"),
    ("opusplan", "claude-sonnet-5"), ("best", "claude-opus-4-8"),
    ("sonnet[1m]", "claude-sonnet-5[1m]"), ("mythos", "mythos"),
])
def test_claude_resolves_model_aliases(sandbox: Sandbox, alias: str, model: str) -> None:
    done = run_fake(CLAUDE, sandbox, model=alias)
    assert done.events[0]["model"] == model
    assert list(done.events[-1]["modelUsage"]) == [model]


def test_claude_persists_a_transcript_without_no_session_persistence(sandbox: Sandbox) -> None:
    config = sandbox.home / "cfg"
    done = run_fake(CLAUDE, sandbox, args=["-p", "--output-format", "json", PROMPT], stdin="",
                    env={"CLAUDE_CONFIG_DIR": str(config)})
    result = json.loads(done.stdout)
    slug = re.sub(r"[^a-zA-Z0-9]", "-", str(sandbox.workdir))
    lines = (config / "projects" / slug / f"{result['session_id']}.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines] == [
        "queue-operation", "queue-operation", "user", "assistant", "last-prompt"]


def test_claude_text_mode_reads_plain_stdin(sandbox: Sandbox) -> None:
    done = run_fake(CLAUDE, sandbox, args=["-p", "--no-session-persistence"], stdin="Say hi\n")
    assert (done.returncode, done.stdout) == (0, "Hello from mock.\n")
    record = json.loads(next(sandbox.records.glob("claude-*.json")).read_text())
    assert record["prompt"] == "Say hi\n"


def test_claude_stream_json_without_a_message_prints_nothing(sandbox: Sandbox) -> None:
    done = run_fake(CLAUDE, sandbox, stdin="")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.parametrize(("args", "stderr"), [
    (["--bogus-flag"], "error: unknown option '--bogus-flag'\n"),
    (["--verbos"], "error: unknown option '--verbos'\n(Did you mean --verbose?)\n"),
    (["--max-turn", "1"], "error: unknown option '--max-turn'\n"),
    (["--output-format", "xml"],
     ("error: option '--output-format <format>' argument 'xml' is invalid. Allowed choices are "
      "text, json, stream-json.\n")),
    (["--model"], "error: option '--model <model>' argument missing\n"),
])
def test_claude_rejects_bad_arguments_like_commander(sandbox: Sandbox, args: list[str],
                                                     stderr: str) -> None:
    done = run_fake(CLAUDE, sandbox, args=claude_argv("x", sandbox.workdir)[1:] + args)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", stderr)


def test_claude_version(sandbox: Sandbox) -> None:
    done = run_fake(CLAUDE, sandbox, args=["--version"], stdin="")
    assert done.stdout == "2.1.197 (Claude Code)\n"


# ---------------------------------------------------------------------------- model server


def test_split_chunks_prefers_word_starts() -> None:
    assert split_chunks("Hello from mock.", 3) == HELLO_CHUNKS
    assert split_chunks("abc", 5) == ["a", "b", "c"]
    assert "".join(split_chunks("one two  three\n", 2)) == "one two  three\n"


async def test_openai_stream_through_the_sdk() -> None:
    async with running_model_server() as url:
        client = AsyncOpenAI(base_url=f"{url}/v1", api_key="x")
        stream = await client.chat.completions.create(
            model="gpt-4.1", stream=True, stream_options={"include_usage": True},
            messages=[{"role": "system", "content": "[[fake:chunks=2]]"},
                      {"role": "user", "content": "hi [[fake:reply=a b c d]]"}])
        chunks = [chunk async for chunk in stream]
        models = await client.models.list()
        await client.close()
    assert [c.choices[0].delta.content for c in chunks[1:3]] == ["a b", " c d"]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert "gpt-4.1" in [m.id for m in models.data]


async def test_openai_plain_json_and_errors() -> None:
    async with running_model_server() as url:
        client = AsyncOpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
        reply = await client.chat.completions.create(
            model="gpt-4.1", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(NotFoundError) as missing:
            await client.chat.completions.create(
                model="invalid-model", messages=[{"role": "user", "content": "hi"}])
        async with aiohttp.ClientSession() as http:
            forced = await http.post(f"{url}/v1/chat/completions", json={
                "model": "m", "messages": [{"role": "user", "content": "[[fake:status=429]]"}]})
            error = await forced.json()
        await client.close()
    assert reply.choices[0].message.content == "Hello from mock."
    assert missing.value.code == "model_not_found"
    assert forced.status == 429 and set(error["error"]) == {"message", "type", "param", "code"}


async def read_sse(response: aiohttp.ClientResponse) -> list[tuple[str, dict[str, Any]]]:
    events, name = [], ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


async def test_anthropic_stream_plain_and_side_requests() -> None:
    body = {"model": "claude-sonnet-5", "max_tokens": 100, "stream": True,
            "system": [{"type": "text", "text": "[[fake:reply=Yo ho ho]]"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}
    title = {**body, "output_config": {"format": {"type": "json_schema", "schema": {
        "type": "object", "properties": {"title": {"type": "string"}}}}}}
    async with running_model_server() as url, aiohttp.ClientSession() as http:
        async with http.post(f"{url}/v1/messages?beta=true", json=body) as response:
            events = await read_sse(response)
        async with http.post(f"{url}/v1/messages", json={**body, "stream": False}) as response:
            plain = await response.json()
        async with http.post(f"{url}/v1/messages?beta=true", json=title) as response:
            title_events = await read_sse(response)
        async with http.head(f"{url}/") as head, http.get(f"{url}/nowhere") as other:
            statuses = (head.status, other.status)
        recorded = await (await http.get(f"{url}/_fake/requests")).json()
        await http.delete(f"{url}/_fake/requests")
        cleared = await (await http.get(f"{url}/_fake/requests")).json()
    assert [n for n, _ in events] == ["message_start", "content_block_start", "ping",
                                      *["content_block_delta"] * 3, "content_block_stop",
                                      "message_delta", "message_stop"]
    texts = [d["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert texts == ["Yo", " ho", " ho"]
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert plain["content"] == [{"type": "text", "text": "Yo ho ho"}]
    title_text = next(d["delta"]["text"] for n, d in title_events if n == "content_block_delta")
    assert json.loads(title_text) == {"title": "Fake title"}
    assert statuses == (200, 404)
    assert [(r["method"], r["path"], r["query"]) for r in recorded][:3] == [
        ("POST", "/v1/messages", "beta=true"), ("POST", "/v1/messages", ""),
        ("POST", "/v1/messages", "beta=true")]
    assert recorded[0]["body"] == body and cleared == []


# ---------------------------------------------------------------------------- real CLIs


def find_real_cli(name: str) -> str | None:
    """REAL_<NAME>_PATH, then the repo's node_modules or .tools/node_modules, then PATH."""
    candidates = [os.environ.get(f"REAL_{name.upper()}_PATH"),
                  str(REPO / "node_modules" / ".bin" / name),
                  str(REPO / ".tools" / "node_modules" / ".bin" / name), shutil.which(name)]
    for candidate in filter(None, candidates):
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK) and FAKES_BIN not in path.resolve().parents:
            return str(path)
    return None


def real_cli_env(name: str, base_url: str, home: Path, cache: Path) -> dict[str, str]:
    """The env recipe of tests/fakes/README.md: no account, no network, a throwaway HOME."""
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    if name == "copilot":
        return env | {"XDG_CACHE_HOME": str(cache), "COPILOT_OFFLINE": "true",
                      "COPILOT_PROVIDER_BASE_URL": f"{base_url}/v1",
                      # Copilot masks this value in its JSON output: it must not be a short word.
                      "COPILOT_PROVIDER_API_KEY": "fake-provider-key-7f3a9c"}
    return env | {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": "sk-ant-x",
                  "CLAUDE_CODE_MAX_RETRIES": "1", "DISABLE_AUTOUPDATER": "1",
                  "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "IS_SANDBOX": "1"}


@pytest.fixture(scope="session")
def real_cli_cache() -> Iterator[Path]:
    """Copilot unpacks 235 MB into XDG_CACHE_HOME on first run: share one dir per test session."""
    given = os.environ.get("REAL_CLI_CACHE_DIR")
    if given:
        yield Path(given)
        return
    path = Path(tempfile.mkdtemp(prefix="real-cli-cache-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def model_url() -> AsyncIterator[str]:
    async with running_model_server() as url:
        yield url


async def run_cli(argv: list[str], cwd: Path, env: dict[str, str], stdin: str) -> Finished:
    """Spawn like the bridge: own session, pipes, prompt written then stdin closed."""
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True, limit=64 * 1024 * 1024)
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=90)
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    assert proc.returncode is not None
    return Finished(proc.returncode, out.decode(), err.decode())


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.realcli
@pytest.mark.parametrize("flavor", FLAVORS)
async def test_real_cli_answers_from_the_fake_model(flavor: Flavor, sandbox: Sandbox,
                                                    model_url: str, real_cli_cache: Path) -> None:
    binary = find_real_cli(flavor.name)
    if binary is None:
        pytest.fail(f"the real {flavor.name} CLI is not installed; make test installs it into .tools")
    (sandbox.workdir / "AGENTS.md").write_text("AGENTS_MARKER: be terse.\n")
    (sandbox.workdir / "system-prompt.txt").write_text("SYSTEM_FILE_MARKER: be terse.\n")
    reply = "Scripted answer, word by word."
    prompt = f"Say hi [[fake:reply={reply}]] [[fake:chunks=4]]"
    env = real_cli_env(flavor.name, model_url, sandbox.home, real_cli_cache)
    done = await run_cli(flavor.argv(binary, sandbox.workdir), sandbox.workdir, env,
                         flavor.stdin(prompt))
    assert done.returncode == 0, done.stderr
    assert flavor.answer(done.events) == reply
    assert "".join(flavor.deltas(done.events)) == reply
    async with aiohttp.ClientSession() as http:
        requests = await (await http.get(f"{model_url}/_fake/requests")).json()
    answered = [r["body"] for r in requests if r["method"] == "POST"
                and isinstance(r["body"], dict) and "messages" in r["body"]
                and not (r["body"].get("output_config") or {}).get("format")]  # not the title
    assert len(answered) == 1, [r["path"] for r in requests]
    assert "Say hi" in json.dumps(answered[0]["messages"][-1])
    # Copilot sends AGENTS.md inside its system message, Claude the file as a `system` block.
    marker = "AGENTS_MARKER" if flavor is COPILOT else "SYSTEM_FILE_MARKER"
    system = answered[0].get("system") or answered[0]["messages"][0]["content"]
    assert marker in json.dumps(system)
    if flavor is COPILOT:
        session_id = done.events[-1]["sessionId"]
        assert (sandbox.home / ".copilot" / "session-state" / session_id).is_dir()


@pytest.mark.realcli
@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("model", ["usual", "invalid-model"])
async def test_fake_prints_the_same_event_shapes_as_the_real_cli(
        flavor: Flavor, model: str, sandbox: Sandbox, model_url: str,
        real_cli_cache: Path) -> None:
    binary = find_real_cli(flavor.name)
    if binary is None:
        pytest.fail(f"the real {flavor.name} CLI is not installed; make test installs it into .tools")
    name = model if model == "invalid-model" else ("gpt-4.1" if flavor is COPILOT else "sonnet")
    env = real_cli_env(flavor.name, model_url, sandbox.home, real_cli_cache)
    real = await run_cli(flavor.argv(binary, sandbox.workdir, name), sandbox.workdir, env,
                         flavor.stdin(PROMPT))
    fake = await run_cli(flavor.argv(str(FAKES_BIN / flavor.name), sandbox.workdir, name),
                         sandbox.workdir, env, flavor.stdin(PROMPT))
    assert (fake.returncode, fake.stderr) == (real.returncode, real.stderr)
    assert [shape(e) for e in fake.events] == [shape(e) for e in real.events]
