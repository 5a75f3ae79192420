"""The read-answer loop: prompt_toolkit on a terminal, plain lines from a pipe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from chat_client.api import ApiError, BridgeClient
from chat_client.commands import run_command
from chat_client.config import ClientConfig
from chat_client.conversation import Conversation
from chat_client.state import ChatState
from chat_client.turns import ask

PROMPT = "you> "

# Returns one input line; raises EOFError at the end and KeyboardInterrupt to leave.
LineReader = Callable[[], str]


def run_chat(config: ClientConfig, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """Run the chat until the user leaves; return the process exit code."""
    try:
        client = BridgeClient(config.server_url, config.api_key)
    except ApiError as exc:
        err.write(f"error: {exc}\n")
        return 2
    state = ChatState(
        client=client,
        conversation=Conversation(config.system_prompt),
        model=config.model,
        stream=config.stream,
        out=out,
        err=err,
    )
    interactive = stdin.isatty() and out.isatty()
    if not interactive:
        chat_loop(state, plain_reader(stdin))
        # A script piping questions in wants to know whether every answer came.
        return 1 if state.failures else 0
    state.say(
        f"copilot-bridge chat · {config.server_url} · model {config.model or '(server default)'}"
        f" · {'streaming' if config.stream else 'not streaming'}"
    )
    state.say("Type /help for commands. Ctrl-C stops an answer; Ctrl-D or /quit leaves.")
    chat_loop(state, terminal_reader(config.history_path))
    state.say("bye")
    return 0


def chat_loop(state: ChatState, read_line: LineReader) -> None:
    """Read lines and answer them until end of input, Ctrl-C at the prompt, or /quit."""
    while True:
        try:
            line = read_line()
        except (EOFError, KeyboardInterrupt):
            return
        try:
            if not handle_line(state, line):
                return
        except KeyboardInterrupt:
            # Ctrl-C during a command (say, a slow /models) only cancels that command.
            state.say("[interrupted]")


def handle_line(state: ChatState, line: str) -> bool:
    """Answer a question or run a command; return False to leave."""
    text = line.strip()
    if not text:
        return True
    if text.startswith("/"):
        return run_command(state, text)
    ask(state, text)
    return True


def plain_reader(stdin: TextIO) -> LineReader:
    """Read lines from a pipe or file, without a prompt."""

    def read() -> str:
        line = stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    return read


def terminal_reader(history_path: Path) -> LineReader:
    """Read lines with editing and a persistent history."""
    session: PromptSession[str] = PromptSession(
        history=_open_history(history_path), key_bindings=_key_bindings()
    )
    return lambda: session.prompt(PROMPT)


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("c-c")
    def _interrupt(event: KeyPressEvent) -> None:
        # Ctrl-C clears a half-typed line; at an empty prompt it leaves, like a shell.
        buffer = event.app.current_buffer
        if buffer.text:
            buffer.reset()
        else:
            event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    return bindings


def _open_history(path: Path) -> History:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError:
        # A read-only home should not stop the chat; the history just is not kept.
        return InMemoryHistory()
    return FileHistory(str(path))
