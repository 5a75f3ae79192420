"""What a stored response is, and the small protocol every response store follows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One finished response, kept so a client can read it back or continue from it.

    `owner` is the fingerprint of the API key that created it (None when the bridge has no
    keys). `context` is every item before this response's input (from `previous_response_id`),
    so a continuation needs only this record: context + input + the response's output.
    """

    id: str
    owner: str | None
    response: Mapping[str, Any]  # the Response object as the client got it
    input_items: Sequence[Mapping[str, Any]]  # this request's input items, with ids
    context: Sequence[Mapping[str, Any]] = ()

    def conversation(self) -> list[Mapping[str, Any]]:
        """The items a continuation starts from: context, input, then the output items."""
        return [*self.context, *self.input_items, *self.response.get("output", ())]

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready form (for stores that keep bytes)."""
        return {
            "id": self.id,
            "owner": self.owner,
            "response": self.response,
            "input_items": list(self.input_items),
            "context": list(self.context),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredResponse:
        """The record `as_json` wrote."""
        return cls(data["id"], data["owner"], data["response"], tuple(data["input_items"]), tuple(data["context"]))


class StoreUnreachable(Exception):
    """The response store could not be read or written (e.g. Redis is down)."""


class ResponseStore(Protocol):
    """Where finished responses live until their TTL passes.

    Reads take the caller's owner: a record another key created is reported as missing, so
    nobody can learn that an id exists without owning it.
    """

    async def put(self, record: StoredResponse) -> None:
        """Keep `record` (replacing one with the same id)."""

    async def get(self, response_id: str, owner: str | None) -> StoredResponse | None:
        """The record, or None when it is unknown, expired or owned by someone else."""

    async def delete(self, response_id: str, owner: str | None) -> bool:
        """Remove the record; False when there was none this owner could see."""

    async def aclose(self) -> None:
        """Release connections and timers."""
