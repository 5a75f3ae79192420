"""Entry point: `python -m chat_client [--model M] [--system P] [--server URL] ...`."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from chat_client.config import parse_config
from chat_client.repl import run_chat


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags and environment, run the chat, return the exit code."""
    config = parse_config(sys.argv[1:] if argv is None else argv, os.environ)
    try:
        return run_chat(config, sys.stdin, sys.stdout, sys.stderr)
    except BrokenPipeError:
        # The reader of our output went away (`| head`); leave quietly.
        sys.stderr.close()
        return 1


if __name__ == "__main__":
    sys.exit(main())
