"""Image content parts: chat `image_url` and Responses `input_image` parts into ImageParts.

A `data:` URL is decoded here and its type read from its bytes (PNG, JPEG, GIF or WebP, the
types OpenAI takes; the declared type is not trusted: the CLIs and Anthropic check the bytes). An
http(s) URL is kept for the server to fetch, when the operator allows it (`server.images`).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from executors import ImagePart
from server.protocol.errors import InvalidRequest

DETAILS = frozenset({"auto", "low", "high"})
TYPES_TEXT = "PNG, JPEG, GIF or WebP"


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes start with (one of executors.IMAGE_TYPES), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def chat_image(part: dict[str, Any], param: str) -> ImagePart:
    """A chat `{"type": "image_url", "image_url": {"url", "detail"}}` part (a bare URL string too)."""
    raw = part.get("image_url")
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        raise InvalidRequest(f"{param}.image_url.url is required", code="invalid_image_url", param=f"{param}.image_url")
    return image_from_url(raw["url"], _detail(raw.get("detail"), f"{param}.image_url.detail"), f"{param}.image_url")


def responses_image(part: dict[str, Any], param: str) -> ImagePart:
    """A Responses `{"type": "input_image", "image_url", "detail"}` part (`file_id` needs the Files API)."""
    url = part.get("image_url")
    if not isinstance(url, str):
        reason = "file ids are not supported (there is no Files API); send the image as a data URL" if part.get(
            "file_id") else "image_url is required"
        raise InvalidRequest(f"{param}: {reason}", code="invalid_image_url", param=f"{param}.image_url")
    return image_from_url(url, _detail(part.get("detail"), f"{param}.detail"), f"{param}.image_url")


def image_from_url(url: str, detail: str | None, param: str) -> ImagePart:
    """A data URL decoded, or an http(s) URL to fetch later; InvalidRequest names `param` otherwise."""
    if url.startswith("data:"):
        data = _data_url_bytes(url, param)
        media_type = sniff_image(data)
        if media_type is None:
            raise InvalidRequest(f"{param}: the data is not a {TYPES_TEXT} image", code="invalid_image_format", param=param)
        return ImagePart(media_type, data, detail=detail, origin=param)
    if url.lower().startswith(("http://", "https://")):
        return ImagePart("", url=url, detail=detail, origin=param)
    raise InvalidRequest(f"{param}: an image URL must be a data: URL or an http(s) URL", code="invalid_image_url", param=param)


def _data_url_bytes(url: str, param: str) -> bytes:
    header, comma, payload = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise InvalidRequest(f"{param}: a data URL must be base64 (data:<type>;base64,<data>)",
                             code="invalid_image_url", param=param)
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{param}: the data URL is not valid base64", code="invalid_image_url", param=param) from None
    if not data:
        raise InvalidRequest(f"{param}: the image is empty", code="invalid_image_format", param=param)
    return data


def _detail(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if value not in DETAILS:
        raise InvalidRequest(f"{param} must be one of auto, low, high", param=param)
    return str(value)
