"""The conversation the client keeps and resends on every turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message as the OpenAI API carries it."""

    role: Role
    content: str

    def to_json(self) -> dict[str, str]:
        """Return the wire form `{"role": ..., "content": ...}`."""
        return {"role": self.role, "content": self.content}


@dataclass(slots=True)
class Conversation:
    """An optional system prompt followed by alternating user and assistant turns."""

    system_prompt: str | None = None
    turns: list[Message] = field(default_factory=list)

    def messages(self) -> list[Message]:
        """Return everything that is sent: the system prompt first, then the turns."""
        head = [Message("system", self.system_prompt)] if self.system_prompt else []
        return head + self.turns

    def to_json(self) -> list[dict[str, str]]:
        """Return the messages in wire form."""
        return [message.to_json() for message in self.messages()]

    def add(self, role: Role, content: str) -> None:
        """Append one turn."""
        self.turns.append(Message(role, content))

    def drop_last(self) -> None:
        """Forget the most recent turn (a question whose answer failed)."""
        if self.turns:
            self.turns.pop()

    def clear(self) -> None:
        """Forget every turn and keep the system prompt."""
        self.turns.clear()

    def set_system(self, prompt: str | None) -> None:
        """Replace the system prompt and start over."""
        self.system_prompt = prompt or None
        self.clear()
