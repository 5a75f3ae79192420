"""Fetch one image URL through the address guard, within the operator's time and size limits."""

from __future__ import annotations

import asyncio

import aiohttp
import structlog
from yarl import URL

from executors import ImagePart
from server.images.settings import ImageSettings
from server.netguard.fetch import guarded_fetch
from server.netguard.guard import FetchFailed, FetchRefused, Resolver, system_resolver
from server.protocol.errors import InvalidRequest
from server.protocol.images import TYPES_TEXT, sniff_image

log = structlog.get_logger(__name__)
USER_AGENT = "copilot-bridge-images"


async def fetch_image(image: ImagePart, settings: ImageSettings, resolve: Resolver = system_resolver) -> ImagePart:
    """The image at `image.url`, read into bytes; InvalidRequest (400) says why it could not be."""
    param = image.origin or "image_url"
    try:
        url = URL(str(image.url))
        async with asyncio.timeout(settings.timeout_s):
            fetched = await guarded_fetch(
                url, settings.guard, max_bytes=settings.max_bytes, max_redirects=settings.max_redirects,
                headers={"Accept": "image/png, image/jpeg, image/gif, image/webp"}, user_agent=USER_AGENT,
                resolve=resolve,
            )
    except ValueError as exc:
        raise _bad(param, f"not a valid URL: {exc}") from None
    except TimeoutError:
        raise _bad(param, f"the image did not arrive within {settings.timeout_s:g} s (IMAGE_URL_TIMEOUT)") from None
    except FetchRefused as exc:
        raise _bad(param, f"the image URL is refused: {exc}") from None
    except (FetchFailed, aiohttp.ClientError) as exc:
        raise _bad(param, f"the image could not be fetched: {exc or type(exc).__name__}") from None
    if fetched.status != 200:
        raise _bad(param, f"fetching the image answered HTTP {fetched.status}")
    if fetched.truncated:
        raise _bad(param, f"the image is larger than {settings.max_bytes} bytes (IMAGE_URL_MAX_BYTES)")
    media_type = sniff_image(fetched.body)
    if media_type is None:
        raise InvalidRequest(f"{param}: the URL did not answer with a {TYPES_TEXT} image",
                             code="invalid_image_format", param=param)
    log.info("image_fetched", host=url.host, size=len(fetched.body), media_type=media_type)
    return ImagePart(media_type, fetched.body, detail=image.detail, origin=image.origin)


def _bad(param: str, why: str) -> InvalidRequest:
    return InvalidRequest(f"{param}: {why}", code="invalid_image_url", param=param)
