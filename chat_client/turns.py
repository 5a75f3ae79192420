"""One question and its answer: print deltas as they arrive, keep what was shown."""

from __future__ import annotations

from contextlib import closing
from typing import TextIO

from chat_client.api import ApiError
from chat_client.state import ChatState


class AnswerPrinter:
    """Writes answer text at once and remembers it, ending on a fresh line."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._parts: list[str] = []

    @property
    def text(self) -> str:
        """The answer printed so far."""
        return "".join(self._parts)

    def write(self, delta: str) -> None:
        """Print one piece of the answer immediately."""
        if delta:
            self._parts.append(delta)
            self._out.write(delta)
            self._out.flush()

    def end(self) -> None:
        """Move to a new line unless the answer already ended with one."""
        if self._parts and not self._parts[-1].endswith("\n"):
            self._out.write("\n")
            self._out.flush()


def ask(state: ChatState, question: str) -> None:
    """Send the conversation plus `question` and print the answer as it streams in.

    A failed answer removes the question again, so it can be retried without a duplicate.
    An interrupted one keeps the part already shown, so history matches the screen.
    """
    state.conversation.add("user", question)
    printer = AnswerPrinter(state.out)
    try:
        model = state.current_model()
        messages = state.conversation.to_json()
        if state.stream:
            with closing(state.client.stream_chat(model, messages)) as deltas:
                for delta in deltas:
                    printer.write(delta)
        else:
            printer.write(state.client.complete_chat(model, messages))
    except KeyboardInterrupt:
        printer.end()
        state.say("[interrupted]")
        if printer.text:
            state.conversation.add("assistant", printer.text)
        else:
            state.conversation.drop_last()
        return
    except ApiError as exc:
        printer.end()
        state.conversation.drop_last()
        state.fail(exc)
        return
    printer.end()
    state.conversation.add("assistant", printer.text)
