"""Command-line flags and environment for the chat client; flags win over the environment."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SERVER_URL = "http://127.0.0.1:3456"

ENV_HELP = f"""\
environment:
  COPILOT_SERVER_URL    base URL of the bridge (default {DEFAULT_SERVER_URL})
  COPILOT_MODEL         model id (default: the first one /v1/models lists)
  COPILOT_API_KEY       sent as "Authorization: Bearer <key>"
  COPILOT_CHAT_HISTORY  line-editing history file (default ~/.copilot-bridge/chat_history)

Type /help inside the chat for its commands. When standard input is not a terminal,
every input line is one question and only the answers are printed.
"""


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything the chat client needs to start."""

    server_url: str
    model: str | None
    system_prompt: str | None
    api_key: str | None
    stream: bool
    history_path: Path


def parse_config(argv: Sequence[str], environ: Mapping[str, str]) -> ClientConfig:
    """Build the config from `argv` (without the program name) and `environ`."""
    parser = argparse.ArgumentParser(
        prog="chat.sh",
        description="Chat with the copilot-bridge OpenAI-compatible server.",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--server", metavar="URL", help="base URL of the bridge")
    parser.add_argument("--model", help="model id to ask")
    parser.add_argument("--system", metavar="PROMPT", help="system prompt")
    parser.add_argument("--api-key", metavar="KEY", help="API key for the bridge")
    parser.add_argument("--no-stream", action="store_true", help="wait for whole answers")
    args = parser.parse_args(list(argv))
    history = environ.get("COPILOT_CHAT_HISTORY") or str(_home(environ) / "chat_history")
    return ClientConfig(
        server_url=args.server or environ.get("COPILOT_SERVER_URL") or DEFAULT_SERVER_URL,
        model=args.model or environ.get("COPILOT_MODEL") or None,
        system_prompt=args.system or None,
        api_key=args.api_key or environ.get("COPILOT_API_KEY") or None,
        stream=not args.no_stream,
        history_path=Path(history).expanduser(),
    )


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".copilot-bridge"
