"""Drive `chat_client/chat.sh` in a pseudo-terminal and read what the screen shows."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parents[2]
CHAT_SH = REPO / "chat_client" / "chat.sh"
PROMPT = "you>"

# CSI, OSC and two-character escapes: the cursor moves and colours prompt_toolkit draws with.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_=>]")


def visible(raw: str) -> str:
    """Return the text of `raw` terminal output without escape sequences or carriage returns."""
    return _ESCAPES.sub("", raw).replace("\r", "")


class ChatTerminal:
    """One chat session in a pty: type lines, send Ctrl-C, wait for text to appear."""

    def __init__(self, args: list[str], home: Path, extra_env: dict[str, str] | None = None):
        env = {key: value for key, value in os.environ.items() if not key.startswith("COPILOT_")}
        env.update(
            HOME=str(home),
            TERM="xterm",
            NO_COLOR="1",
            # No terminal answers cursor-position requests here; do not wait for one.
            PROMPT_TOOLKIT_NO_CPR="1",
        )
        env.update(extra_env or {})
        self.child = pexpect.spawn(
            str(CHAT_SH),
            args,
            env=env,
            encoding="utf-8",
            codec_errors="replace",
            timeout=20,
            dimensions=(40, 200),
        )
        self._raw = ""
        self._seen = 0

    @property
    def screen(self) -> str:
        """Everything shown so far, escapes removed."""
        return visible(self._raw)

    @property
    def unmatched(self) -> str:
        """What was shown after the last match (so far)."""
        return self.screen[self._seen :]

    def expect(self, text: str, timeout: float = 20.0) -> str:
        """Wait until `text` appears after the previous match; return the screen text before it."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen
            found = screen.find(text, self._seen)
            if found != -1:
                before = screen[self._seen : found]
                self._seen = found + len(text)
                return before
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{text!r} did not appear; screen ends with:\n{screen[-1500:]}"
                )
            try:
                self._raw += self.child.read_nonblocking(4096, timeout=min(remaining, 0.2))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                raise AssertionError(
                    f"chat exited before {text!r} appeared; screen:\n{screen[-1500:]}"
                ) from None

    def prompt(self) -> None:
        """Wait for the input prompt."""
        self.expect(PROMPT)

    def type(self, line: str) -> None:
        """Type one line, press Enter and wait until the accepted line is shown."""
        self.child.send(line)
        self.child.send("\r")
        self.expect(f"{line}\n")

    def ask(self, line: str) -> None:
        """Wait for the prompt, then type `line`."""
        self.prompt()
        self.type(line)

    def interrupt(self) -> None:
        """Press Ctrl-C."""
        self.child.sendintr()

    def wait_exit(self, timeout: float = 20.0) -> int:
        """Wait for the chat to end and return its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._raw += self.child.read_nonblocking(4096, timeout=0.2)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                break
        else:
            raise AssertionError(f"chat did not exit; screen ends with:\n{self.screen[-1500:]}")
        self.child.close()
        assert self.child.signalstatus is None, f"killed by signal {self.child.signalstatus}"
        return int(self.child.exitstatus)

    def close(self) -> None:
        """Kill the chat if it is still running."""
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()
