"""A small blocking HTTP client for the bridge's OpenAI-compatible endpoints (stdlib only).

Blocking I/O on the main thread keeps Ctrl-C simple: SIGINT raises KeyboardInterrupt inside
the socket read, and the streaming generator closes its connection on the way out.
"""

from __future__ import annotations

import codecs
import http.client
import json
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from chat_client.sse import SseDecoder

CONNECT_TIMEOUT = 10.0
# The bridge may wait minutes for a CLI before the first byte; its own timeout is the limit.
READ_TIMEOUT = 660.0
MAX_ERROR_BODY = 64 * 1024


class ApiError(Exception):
    """A failure shown to the user as one line: an OpenAI error, a bad reply or no connection."""

    def __init__(self, message: str, *, status: int | None = None, label: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.label = label

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.status, self.label) if part)
        return f"{head}: {self.message}" if head else self.message


def error_from_body(body: object, *, status: int | None, reason: str = "") -> ApiError:
    """Build an ApiError from an OpenAI `{"error": {...}}` body (or anything else)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "(no message)")
        label = error.get("code") or error.get("type")
        return ApiError(message, status=status, label=str(label) if label else reason or None)
    if isinstance(error, str) and error:
        return ApiError(error, status=status, label=reason or None)
    text = body if isinstance(body, str) else json.dumps(body)
    return ApiError(_one_line(text) or "(empty reply)", status=status, label=reason or None)


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class BridgeClient:
    """Calls `/v1/models` and `/v1/chat/completions` on one base URL."""

    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        parts = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        # Accept both http://host:3456 and http://host:3456/v1 (the SDKs' base_url habit).
        prefix = parts.path.rstrip("/")
        self._prefix = prefix.removesuffix("/v1")
        self._api_key = api_key

    def list_models(self) -> list[str]:
        """Return the model ids from `GET /v1/models`."""
        body = self._request_json("GET", "/v1/models")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ApiError("the model list has no 'data' array")
        return [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]

    def complete_chat(self, model: str, messages: Sequence[Mapping[str, str]]) -> str:
        """Send a non-streaming chat completion and return the answer text."""
        payload = {"model": model, "messages": list(messages), "stream": False}
        return _message_content(self._request_json("POST", "/v1/chat/completions", payload))

    def stream_chat(
        self, model: str, messages: Sequence[Mapping[str, str]]
    ) -> Generator[str, None, None]:
        """Yield content deltas as they arrive; closing the generator closes the connection."""
        payload = {"model": model, "messages": list(messages), "stream": True}
        conn, resp = self._open("POST", "/v1/chat/completions", payload)
        try:
            if resp.status != 200:
                raise self._error_from(resp)
            if "text/event-stream" not in (resp.getheader("Content-Type") or ""):
                # A server that ignored "stream": true answered with one JSON body.
                yield _message_content(_decode_json(resp.read()))
                return
            yield from _stream_deltas(resp)
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError(f"the stream broke off: {_reason(exc)}") from None
        finally:
            conn.close()

    def _request_json(self, method: str, path: str, payload: object = None) -> Any:
        conn, resp = self._open(method, path, payload)
        try:
            if resp.status != 200:
                raise self._error_from(resp)
            return _decode_json(resp.read())
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError(f"connection to {self.base_url} broke: {_reason(exc)}") from None
        finally:
            conn.close()

    def _open(
        self, method: str, path: str, payload: object
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=CONNECT_TIMEOUT)
        headers = {"Accept": "application/json, text/event-stream", "User-Agent": "copilot-chat"}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(READ_TIMEOUT)
            conn.request(method, self._prefix + path, body=body, headers=headers)
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise ApiError(f"cannot reach {self.base_url}: {_reason(exc)}") from None
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _error_from(resp: http.client.HTTPResponse) -> ApiError:
        raw = resp.read(MAX_ERROR_BODY)
        text = raw.decode("utf-8", errors="replace")
        try:
            body: object = json.loads(text)
        except ValueError:
            body = text
        return error_from_body(body, status=resp.status, reason=resp.reason)


def _stream_deltas(resp: http.client.HTTPResponse) -> Iterator[str]:
    decoder = SseDecoder()
    text = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        chunk = resp.read1(16 * 1024)
        for event in decoder.feed(text.decode(chunk, final=not chunk)):
            if event.data.startswith("[DONE]"):
                return
            delta = _chunk_content(event.data)
            if delta:
                yield delta
        if not chunk:
            return


def _chunk_content(data: str) -> str:
    try:
        chunk = json.loads(data)
    except ValueError:
        raise ApiError(f"the server sent a non-JSON event: {_one_line(data, 80)}") from None
    if isinstance(chunk, dict) and chunk.get("error"):
        raise error_from_body(chunk, status=None)
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def _message_content(body: object) -> str:
    if isinstance(body, dict) and body.get("error"):
        raise error_from_body(body, status=None)
    try:
        content = body["choices"][0]["message"].get("content")  # type: ignore[index]
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ApiError("the reply has no choices[0].message") from None
    return content if isinstance(content, str) else ""


def _decode_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(
            f"the server sent non-JSON: {_one_line(raw.decode(errors='replace'))}"
        ) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
