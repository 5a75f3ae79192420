"""The chat client as a person uses it: typed in a terminal, read off the screen.

Every test talks to the real bridge (`python -m server`) running the fake CLIs. The fakes answer
"Hello from mock." unless a `[[fake:...]]` directive in the conversation says otherwise; the
directives stay in the transcript the bridge sends, so a later question overrides them.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from bridge_process import RunningBridge, StartBridge, process_gone, wait_for
from chat_terminal import CHAT_SH, ChatTerminal

OpenChat = Callable[..., ChatTerminal]
MOCK = "Hello from mock."
NOT_SERVED = (
    "error: 404 model_not_found: The model 'nope' does not exist or is not served here;"
    " GET /v1/models lists the ids\n"
)


def model_flag(run: dict[str, object]) -> str:
    """The `--model` a CLI run was started with."""
    argv = run["argv"]
    assert isinstance(argv, list)
    return str(argv[argv.index("--model") + 1])


def cli_name(run: dict[str, object]) -> str:
    argv = run["argv"]
    assert isinstance(argv, list)
    return Path(str(argv[0])).name


def test_a_typed_question_gets_its_answer_streamed_piece_by_piece(
    open_chat: OpenChat, bridge: RunningBridge
) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4")
    chat.expect("model copilot/gpt-5.4 · streaming")
    question = "hello [[fake:reply=Hi there, human.]] [[fake:chunks=3]] [[fake:delay=0.6]]"
    chat.ask(question)
    chat.expect("Hi there,")
    # The rest of the answer is still on its way: it is printed as it arrives.
    assert "human." not in chat.unmatched
    chat.expect(" human.\n")
    chat.prompt()

    run = bridge.cli_run(question)
    assert cli_name(run) == "copilot"
    assert model_flag(run) == "gpt-5.4"
    assert run["prompt"] == question
    [logged] = bridge.chat_requests(1)
    assert (logged["model"], logged["stream"], logged["messages"]) == ("copilot/gpt-5.4", True, 1)


def test_the_conversation_is_kept_and_sent_with_every_question(
    open_chat: OpenChat, bridge: RunningBridge
) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4")
    first = "hello [[fake:reply=Hi there, human.]]"
    chat.ask(first)
    chat.expect("Hi there, human.\n")
    second = "and again [[fake:reply=Second answer.]]"
    chat.ask(second)
    chat.expect("Second answer.\n")
    chat.ask("/quit")
    assert chat.wait_exit() == 0

    # The fake CLI got the whole conversation as a transcript.
    assert bridge.cli_run(second)["prompt"] == (
        "The conversation so far:\n\n"
        f"### User\n{first}\n\n"
        "### Assistant\nHi there, human.\n\n"
        f"### User\n{second}\n\n"
        "Reply as the assistant to the last user message."
    )
    assert [r["messages"] for r in bridge.chat_requests(2)] == [1, 3]


def test_models_lists_and_model_switches_the_next_request(
    open_chat: OpenChat, bridge: RunningBridge
) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4")
    chat.ask("/models")
    chat.expect("  copilot/auto\n")
    chat.expect("* copilot/gpt-5.4\n")
    chat.expect("  claude/sonnet\n")
    chat.ask("/model claude/sonnet")
    chat.expect("model set to claude/sonnet")
    to_claude = "who are you [[fake:reply=I am the fake Claude.]]"
    chat.ask(to_claude)
    chat.expect("I am the fake Claude.\n")
    chat.ask("/model copilot/gpt-5-mini")
    chat.expect("model set to copilot/gpt-5-mini")
    to_copilot = "and you? [[fake:reply=I am the fake Copilot.]]"
    chat.ask(to_copilot)
    chat.expect("I am the fake Copilot.\n")
    chat.ask("/exit")
    assert chat.wait_exit() == 0

    claude_run = bridge.cli_run(to_claude)
    assert (cli_name(claude_run), model_flag(claude_run)) == ("claude", "sonnet")
    copilot_run = bridge.cli_run(to_copilot)
    assert (cli_name(copilot_run), model_flag(copilot_run)) == ("copilot", "gpt-5-mini")


def test_without_a_model_the_first_listed_one_is_used(
    open_chat: OpenChat, bridge: RunningBridge
) -> None:
    chat = open_chat()
    chat.expect("model (server default)")
    chat.ask("hi")
    chat.expect(f"{MOCK}\n")
    chat.ask("/model")
    chat.expect("model: copilot/auto\n")
    assert bridge.chat_requests(1)[0]["model"] == "copilot/auto"
    assert model_flag(bridge.cli_run("hi")) == "auto"


def test_system_prompt_history_and_clear(open_chat: OpenChat, bridge: RunningBridge) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4", "--system", "Be brief.")
    chat.ask("hello")
    chat.expect(f"{MOCK}\n")
    # Copilot gets the system prompt as AGENTS.md in its working directory.
    assert bridge.cli_run("hello")["files"]["AGENTS.md"] == "Be brief."
    chat.ask("/history")
    chat.expect("system: Be brief.\n")
    chat.expect("user: hello\n")
    chat.expect(f"assistant: {MOCK}\n")

    pirate = "Talk like a pirate. [[fake:reply=Arr, ahoy!]]"
    chat.ask(f"/system {pirate}")
    chat.expect("system prompt set; conversation cleared")
    chat.ask("ahoy")
    chat.expect("Arr, ahoy!\n")
    ahoy = bridge.cli_run("ahoy")
    assert ahoy["files"]["AGENTS.md"] == pirate
    assert ahoy["prompt"] == "ahoy"  # the earlier turns are gone

    chat.ask("/clear")
    chat.expect("conversation cleared")
    chat.ask("/history")
    before_prompt = chat.expect("you>")
    assert f"system: {pirate}" in before_prompt
    assert "user:" not in before_prompt
    chat.type("again")
    chat.expect("Arr, ahoy!\n")
    again = bridge.cli_run("again")
    assert again["files"]["AGENTS.md"] == pirate  # /clear keeps the system prompt
    assert again["prompt"] == "again"
    chat.ask("/help")
    chat.expect("/model NAME")
    chat.expect("/quit, /exit")


def test_server_errors_show_one_line_and_the_session_continues(
    open_chat: OpenChat, bridge: RunningBridge
) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4")
    chat.ask("/model nope")
    chat.ask("hi")
    chat.expect(NOT_SERVED)
    chat.ask("/model copilot/gpt-5.4")
    chat.ask("boom [[fake:scenario=crash]]")
    # The CLI printed its first piece, then died: the text stays, the error follows on its line.
    chat.expect("Hello\nerror: copilot_execution_error: copilot exited with status -9\n")
    chat.ask("hi again")
    chat.expect(f"{MOCK}\n")
    chat.ask("/quit")
    assert chat.wait_exit() == 0
    assert "Traceback" not in chat.screen
    # The failed questions were dropped, so only this one was sent.
    assert bridge.cli_run("hi again")["prompt"] == "hi again"
    assert len(bridge.cli_runs()) == 2  # the unknown model never reached a CLI


def test_wrong_api_key_shows_the_servers_401(
    open_chat: OpenChat, start_bridge_with: StartBridge
) -> None:
    keyed = start_bridge_with(API_KEY="sk-right-key")
    chat = open_chat("--model", "copilot/gpt-5.4", "--api-key", "bad-key", server=keyed.url)
    chat.ask("hi")
    chat.expect("error: 401 invalid_api_key: incorrect API key provided\n")
    chat.prompt()
    assert keyed.cli_runs() == []


def test_connection_refused_is_one_line(chat_home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chat = ChatTerminal(["--server", f"http://127.0.0.1:{port}", "--model", "m"], chat_home)
    try:
        chat.ask("hi")
        chat.expect(f"error: cannot reach http://127.0.0.1:{port}: Connection refused\n")
        chat.prompt()
        chat.type("/quit")
        assert chat.wait_exit() == 0
        assert "Traceback" not in chat.screen
    finally:
        chat.close()


def test_ctrl_c_mid_stream_stops_the_answer_and_the_session_goes_on(
    open_chat: OpenChat, bridge: RunningBridge
) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4")
    slow = (
        "count slowly [[fake:scenario=slow]] [[fake:delay=0.5]] [[fake:chunks=10]]"
        " [[fake:reply=one two three four five six seven eight nine ten]]"
    )
    chat.ask(slow)
    chat.expect("one two")
    chat.interrupt()
    chat.expect("[interrupted]")
    # The client closed the connection; the bridge noticed and killed the CLI mid-answer.
    run = bridge.cli_run(slow)
    assert wait_for(lambda: process_gone(int(run["pid"])), timeout=3)
    assert bridge.cli_run(slow)["finished"] is False

    still = "still there? [[fake:scenario=ok]] [[fake:delay=0]] [[fake:reply=Still here.]]"
    chat.ask(still)
    chat.expect("Still here.\n")
    chat.ask("/quit")
    assert chat.wait_exit() == 0
    assert "Traceback" not in chat.screen
    # The question and the part of the answer shown before Ctrl-C stay in the conversation.
    sent = bridge.cli_run(still)["prompt"]
    assert sent.startswith(
        f"The conversation so far:\n\n### User\n{slow}\n\n### Assistant\none two"
    )
    shown = sent.partition("### Assistant\n")[2].partition("\n\n### User")[0]
    assert "one two" in chat.screen and shown in chat.screen and "ten" not in shown


def test_ctrl_c_clears_a_typed_line_and_at_an_empty_prompt_leaves(
    open_chat: OpenChat, bridge: RunningBridge
) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4")
    chat.prompt()
    chat.child.send("half a questi")
    chat.expect("half a questi")
    chat.interrupt()
    chat.type("hi")
    chat.expect(f"{MOCK}\n")
    chat.prompt()
    chat.interrupt()
    assert chat.wait_exit() == 0
    assert "Traceback" not in chat.screen
    assert bridge.cli_run("hi")["prompt"] == "hi"  # nothing of the cleared line was sent
    assert len(bridge.cli_runs()) == 1


def test_ctrl_d_at_an_empty_prompt_leaves(open_chat: OpenChat) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4")
    chat.prompt()
    chat.child.sendeof()
    assert chat.wait_exit() == 0
    assert chat.screen.rstrip().endswith("bye")


def test_flags_win_over_environment_and_the_key_is_sent(
    open_chat: OpenChat, start_bridge_with: StartBridge
) -> None:
    keyed = start_bridge_with(API_KEY="sk-flag")
    env = {"COPILOT_MODEL": "copilot/gpt-5.4", "COPILOT_API_KEY": "sk-env"}
    chat = open_chat("--api-key", "sk-flag", "--no-stream", env=env, server=keyed.url)
    chat.expect("model copilot/gpt-5.4 · not streaming")
    chat.ask("hi")
    chat.expect(f"{MOCK}\n")
    chat.ask("/model claude/haiku")
    chat.ask("hi claude [[fake:reply=Haiku here.]]")
    chat.expect("Haiku here.\n")
    first, second = keyed.chat_requests(2)
    assert first["request_body"]["model"] == "copilot/gpt-5.4"
    assert second["request_body"]["model"] == "claude/haiku"
    for logged in (first, second):
        assert logged["status"] == 200
        assert logged["request_body"]["stream"] is False
        assert logged["headers"]["Authorization"] == "[redacted]"
    assert model_flag(keyed.cli_run("hi claude [[fake:reply=Haiku here.]]")) == "haiku"

    # Without the flag, the key from the environment is the one sent.
    from_env = open_chat(env=env, server=keyed.url)
    from_env.ask("hi")
    from_env.expect("error: 401 invalid_api_key: incorrect API key provided\n")


def test_typed_lines_are_kept_in_a_history_file(open_chat: OpenChat, chat_home: Path) -> None:
    chat = open_chat("--model", "copilot/gpt-5.4")
    chat.ask("remember me")
    chat.expect(f"{MOCK}\n")
    chat.ask("/quit")
    assert chat.wait_exit() == 0
    history = (chat_home / ".copilot-bridge" / "chat_history").read_text()
    assert "+remember me" in history

    again = open_chat("--model", "copilot/gpt-5.4")
    again.prompt()
    again.child.send("\x1b[A")  # Up arrow recalls the last line of the previous session.
    again.child.send("\x1b[A")
    again.expect("remember me")


def test_piped_questions_are_answered_in_turn(bridge: RunningBridge, chat_home: Path) -> None:
    env = {"HOME": str(chat_home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(CHAT_SH), "--server", bridge.url, "--model", "copilot/gpt-5.4"],
        input="hi\nwhat did I say? [[fake:reply=You said hi.]]\n",
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{MOCK}\nYou said hi.\n"
    assert done.stderr == ""
    sent = bridge.cli_run("what did I say? [[fake:reply=You said hi.]]")["prompt"]
    assert f"### User\nhi\n\n### Assistant\n{MOCK}\n\n" in sent


def test_piped_error_is_one_line_and_fails(chat_server_url: str, chat_home: Path) -> None:
    env = {"HOME": str(chat_home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(CHAT_SH), "--server", chat_server_url, "--model", "nope"],
        input="hi\n",
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == NOT_SERVED
