"""The request step for images: refuse them for a backend that takes none, fetch allowed URLs.

Runs before anything else of the answer, so every problem is a plain 400 naming the content part
(never an error in the middle of a stream).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence

from executors import Backend, ImagePart, Message
from server.images.fetch import fetch_image
from server.images.settings import ALLOW_KEY, ImageSettings
from server.netguard.guard import Resolver, system_resolver
from server.protocol.errors import InvalidRequest

# All of a request's images together, fetched or sent: what a 32 MiB request body can carry as
# base64 (the CLIs echo them back in one output line, read up to 64 MiB).
MAX_TOTAL_BYTES = 24 * 1024 * 1024


async def prepare_images(
    messages: Sequence[Message], backend: Backend, settings: ImageSettings, resolve: Resolver = system_resolver,
    max_total: int = MAX_TOTAL_BYTES,
) -> tuple[Message, ...]:
    """The messages with every image's bytes at hand; InvalidRequest when that cannot be."""
    images = [image for message in messages for image in message.images]
    if not images:
        return tuple(messages)
    first = images[0].origin or "messages"
    if not backend.capabilities.images:
        raise InvalidRequest(f"{first}: the {backend.name} backend does not take images",
                             code="unsupported_content_type", param=first)
    pending = list(dict.fromkeys(image.url for image in images if image.url is not None))
    if not pending:
        return tuple(messages)
    where = next(image.origin for image in images if image.url is not None) or "messages"
    if not settings.fetch_urls:
        raise InvalidRequest(
            f"{where}: this server does not fetch image URLs (the operator has not set {ALLOW_KEY}); "
            "send the image as a data URL", code="invalid_image_url", param=where)
    by_url = {image.url: image for image in images if image.url is not None}
    try:
        async with asyncio.TaskGroup() as group:  # the first failure cancels the other fetches
            tasks = {url: group.create_task(fetch_image(by_url[url], settings, resolve)) for url in pending}
    except* InvalidRequest as failed:
        raise failed.exceptions[0] from None
    fetched = {url: task.result() for url, task in tasks.items()}
    resolved = tuple(dataclasses.replace(m, images=tuple(_resolved(i, fetched) for i in m.images)) if m.images else m
                     for m in messages)
    total = sum(len(image.data) for message in resolved for image in message.images)
    if total > max_total:
        raise InvalidRequest(f"the request's images come to {total} bytes, more than {max_total}",
                             code="invalid_image_url", param=where)
    return resolved


def _resolved(image: ImagePart, fetched: Mapping[str, ImagePart]) -> ImagePart:
    if image.url is None:
        return image
    found = fetched[image.url]
    return dataclasses.replace(found, detail=image.detail, origin=image.origin)
