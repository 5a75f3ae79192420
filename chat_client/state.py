"""The mutable state of one chat session and how it talks to the screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from chat_client.api import ApiError, BridgeClient
from chat_client.conversation import Conversation


@dataclass(slots=True)
class ChatState:
    """The client, the conversation, the current model and the output streams."""

    client: BridgeClient
    conversation: Conversation
    model: str | None
    stream: bool
    out: TextIO
    err: TextIO
    failures: int = 0

    def say(self, text: str) -> None:
        """Print one line of client output."""
        self.out.write(text + "\n")
        self.out.flush()

    def fail(self, error: ApiError | str) -> None:
        """Print one `error: ...` line and count the failure."""
        self.failures += 1
        self.out.flush()
        self.err.write(f"error: {error}\n")
        self.err.flush()

    def current_model(self) -> str:
        """Return the model to ask, taking the server's first one when none was chosen."""
        if self.model is None:
            models = self.client.list_models()
            if not models:
                raise ApiError("the server lists no models; choose one with /model NAME")
            self.model = models[0]
        return self.model
