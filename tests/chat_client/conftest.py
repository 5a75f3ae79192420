"""Fixtures for the chat client tests: the real bridge with fake CLIs, and chat.sh in a pty.

`bridge` is `python -m server` on a free port (SERVICE=both, the fake `copilot` and `claude`,
private HOME, LOG_DIR, TEMP_DIR_BASE and a record dir for the fakes). `start_bridge_with` starts
another one with extra settings, say an API_KEY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bridge_process import RunningBridge, StartBridge, start_bridge
from chat_terminal import ChatTerminal


@pytest.fixture
def start_bridge_with(tmp_path: Path) -> Iterator[StartBridge]:
    """Start `python -m server` with extra environment; every one is stopped afterwards."""
    started: list[RunningBridge] = []

    def start(**extra_env: str) -> RunningBridge:
        bridge = start_bridge(tmp_path / f"bridge-{len(started)}", extra_env)
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        bridge.stop()


@pytest.fixture
def bridge(start_bridge_with: StartBridge) -> RunningBridge:
    """The bridge with its default test settings (no API key)."""
    return start_bridge_with()


@pytest.fixture
def chat_server_url(bridge: RunningBridge) -> str:
    """Base URL of the OpenAI-compatible server the chat client talks to."""
    return bridge.url


@pytest.fixture
def chat_home(tmp_path: Path) -> Path:
    """A private HOME, so the line-editing history stays out of the user's."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def open_chat(
    request: pytest.FixtureRequest, chat_home: Path, start_bridge_with: StartBridge
) -> Iterator[Callable[..., ChatTerminal]]:
    """Start `chat.sh --server <url> ARGS...` in a pty; every session is closed afterwards.

    The URL is the `bridge` fixture's unless `server=` names another. (Taking
    `start_bridge_with` makes the chats close before any bridge stops.)
    """
    sessions: list[ChatTerminal] = []

    def start(
        *args: str, env: dict[str, str] | None = None, server: str | None = None
    ) -> ChatTerminal:
        url = server or request.getfixturevalue("chat_server_url")
        session = ChatTerminal(["--server", url, *args], chat_home, env)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.close()
