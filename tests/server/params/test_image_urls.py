"""Image URLs (fetched only when the operator allows it), bad images, and backends without images.

The image site runs on 127.0.0.1: a loopback address the guard refuses unless
IMAGE_URL_ALLOW_PRIVATE lets it through, exactly as a private network would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from openai import AsyncOpenAI

from executors import Capabilities, ImagePart, Message
from server.images.prepare import prepare_images
from server.images.settings import ImageSettings
from server.protocol.errors import InvalidRequest
from tests.conftest import MakeClient, cli_records
from tests.openapi.hooks import checked_httpx_client
from tests.server.params.media_helpers import BLUE, RED, data_url, image_part, seen_by, sha
from tests.server.pipeline.scripted_backend import ScriptedBackend


@pytest.fixture
async def site() -> AsyncIterator[TestServer]:
    """/red.png, /blue (no extension), /moved → /red.png, /text and /big (image/png, but not one
    or too big), /slow (3 s); anything else 404."""

    def png(body: bytes) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type="image/png")
        return handler

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/red.png")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(body=RED, content_type="image/png")

    app = web.Application()
    for path, body in (("/red.png", RED), ("/blue", BLUE), ("/text", b"not an image"), ("/big", RED + b"\0" * 4096)):
        app.router.add_get(path, png(body))
    app.router.add_get("/moved", moved)
    app.router.add_get("/slow", slow)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def sdk_with(make_client: MakeClient) -> AsyncIterator[object]:
    """An SDK on a bridge configured with `config` (env-style settings)."""
    clients: list[AsyncOpenAI] = []

    async def make(**config: str) -> AsyncOpenAI:
        client = await make_client(config=config)
        clients.append(AsyncOpenAI(base_url=str(client.make_url("/v1")), api_key="k", max_retries=0,
                                   http_client=checked_httpx_client()))
        return clients[-1]

    yield make
    for sdk in clients:
        await sdk.close()


def url_message(*urls: str) -> list[dict[str, object]]:
    parts: list[dict[str, object]] = [{"type": "text", "text": "Which colours?"}]
    parts += [{"type": "image_url", "image_url": {"url": url, "detail": "low"}} for url in urls]
    return [{"role": "user", "content": parts}]


ALLOWED = {"IMAGE_URL_ALLOW": "127.0.0.1", "IMAGE_URL_ALLOW_PRIVATE": "127.0.0.1", "IMAGE_URL_MAX_BYTES": "1024",
           "IMAGE_URL_TIMEOUT": "1000"}


@pytest.mark.parametrize("stream", [False, True])
async def test_urls_are_refused_unless_the_operator_allows_them(
    sdk_with: object, site: TestServer, record_dir: Path, stream: bool
) -> None:
    sdk = await sdk_with()  # type: ignore[operator]
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.chat.completions.create(model="copilot/gpt-5.4", messages=url_message(str(site.make_url("/red.png"))),
                                          stream=stream)
    assert refused.value.code == "invalid_image_url"
    assert refused.value.param == "messages[0].content[1].image_url"
    assert "IMAGE_URL_ALLOW" in refused.value.message and "data URL" in refused.value.message
    assert cli_records(record_dir) == []


@pytest.mark.parametrize("model", ["copilot/gpt-5.4", "claude/sonnet"])
async def test_allowed_urls_are_fetched_and_reach_the_cli(
    sdk_with: object, site: TestServer, record_dir: Path, model: str
) -> None:
    sdk = await sdk_with(**ALLOWED)  # type: ignore[operator]
    urls = [str(site.make_url("/moved")), str(site.make_url("/blue")), str(site.make_url("/moved"))]
    completion = await sdk.chat.completions.create(model=model, messages=url_message(*urls))
    assert completion.choices[0].message.content == "Hello from mock."
    assert seen_by(record_dir, model).images == [sha(RED), sha(BLUE), sha(RED)]


@pytest.mark.parametrize(("path", "config", "why"), [
    ("/text", {}, "did not answer with a PNG, JPEG, GIF or WebP image"),
    ("/big", {}, "larger than 1024 bytes (IMAGE_URL_MAX_BYTES)"),
    ("/slow", {}, "did not arrive within 1 s (IMAGE_URL_TIMEOUT)"),
    ("/missing", {}, "answered HTTP 404"),
    ("/red.png", {"IMAGE_URL_ALLOW_PRIVATE": ""}, "a loopback address; such addresses are reachable only when "
                                                  + "the operator allows them (IMAGE_URL_ALLOW_PRIVATE)"),
    ("/red.png", {"IMAGE_URL_ALLOW": "example.com"}, "is not on the operator's allowlist (IMAGE_URL_ALLOW)"),
])
async def test_a_url_that_cannot_give_an_image_is_a_400_naming_the_part(
    sdk_with: object, site: TestServer, record_dir: Path, path: str, config: dict[str, str], why: str
) -> None:
    sdk = await sdk_with(**{**ALLOWED, **config})  # type: ignore[operator]
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.chat.completions.create(model="claude/sonnet", stream=True,
                                          messages=url_message(data_url(RED), str(site.make_url(path))))
    assert refused.value.param == "messages[0].content[2].image_url"
    assert refused.value.code in ("invalid_image_url", "invalid_image_format")
    assert why in refused.value.message
    assert cli_records(record_dir) == []


@pytest.mark.parametrize(("url", "code", "why"), [
    ("data:image/png;base64,@@@", "invalid_image_url", "not valid base64"),
    ("data:image/png,plain", "invalid_image_url", "must be base64"),
    (data_url(b"GIF8 but not really"), "invalid_image_format", "is not a PNG, JPEG, GIF or WebP image"),
    ("ftp://example.com/a.png", "invalid_image_url", "a data: URL or an http(s) URL"),
])
async def test_bad_data_is_a_400(sdk: AsyncOpenAI, url: str, code: str, why: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.chat.completions.create(model="copilot/gpt-5.4", messages=url_message(url))
    assert (refused.value.code, refused.value.param) == (code, "messages[0].content[1].image_url")
    assert why in refused.value.message


async def test_a_declared_type_gives_way_to_the_bytes(sdk: AsyncOpenAI, record_dir: Path) -> None:
    # A PNG sent as image/jpeg: the CLI gets it as the PNG it is.
    completion = await sdk.chat.completions.create(model="copilot/gpt-5.4", messages=[
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": data_url(RED, "image/jpeg")}}]}])
    assert completion.choices[0].message.content == "Hello from mock."
    (record,) = cli_records(record_dir)
    assert [(a["displayName"], a["mimeType"]) for a in record["attachments"]] == [("image-1.png", "image/png")]
    assert record["prompt"] == "[image-1.png]"  # an image alone: copilot takes no prompt without text


async def test_responses_name_the_input_part(sdk: AsyncOpenAI, site: TestServer) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.responses.create(model="claude/sonnet", input=[{"role": "user", "content": [
            {"type": "input_text", "text": "hi"},
            {"type": "input_image", "image_url": str(site.make_url("/red.png")), "detail": "auto"}]}])
    assert (refused.value.code, refused.value.param) == ("invalid_image_url", "input[0].content[1].image_url")


async def test_images_outside_user_messages_and_unknown_parts_are_refused(sdk: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.chat.completions.create(model="copilot/gpt-5.4", messages=[
            {"role": "system", "content": [image_part(RED)]}, {"role": "user", "content": "hi"}])  # type: ignore[list-item]
    assert (refused.value.code, refused.value.param) == ("unsupported_content_type", "messages[0].content[0].type")


@pytest.mark.parametrize("effort", ["extreme", 3])
async def test_an_unknown_reasoning_effort_is_a_400(sdk: AsyncOpenAI, record_dir: Path, effort: object) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.chat.completions.create(model="claude/sonnet", messages=[{"role": "user", "content": "hi"}],
                                          reasoning_effort=effort)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.param) == ("invalid_value", "reasoning_effort")
    assert cli_records(record_dir) == []


async def test_a_backend_without_images_refuses_them_naming_the_part() -> None:
    backend = ScriptedBackend([], capabilities=Capabilities(images=False))
    messages = (Message("user", "hi", images=(ImagePart("image/png", RED, origin="messages[0].content[1].image_url"),)),)
    with pytest.raises(InvalidRequest) as refused:
        await prepare_images(messages, backend, ImageSettings())
    assert (refused.value.code, refused.value.param) == ("unsupported_content_type", "messages[0].content[1].image_url")
    assert "the scripted backend does not take images" in refused.value.message
    assert await prepare_images((Message("user", "hi"),), backend, ImageSettings()) == (Message("user", "hi"),)
    assert backend.requests == []


async def test_fetched_images_are_capped_in_total(site: TestServer) -> None:
    backend = ScriptedBackend([], capabilities=Capabilities(images=True))
    settings = ImageSettings.from_env(ALLOWED)
    url = str(site.make_url("/red.png"))
    messages = (Message("user", "hi", images=(ImagePart("", url=url, origin="messages[0].content[1].image_url"),
                                              ImagePart("image/png", BLUE))),)
    (message,) = await prepare_images(messages, backend, settings)
    assert [(i.media_type, i.data, i.url) for i in message.images] == [("image/png", RED, None), ("image/png", BLUE, None)]
    assert message.images[0].origin == "messages[0].content[1].image_url"
    with pytest.raises(InvalidRequest) as refused:
        await prepare_images(messages, backend, settings, max_total=len(RED) + len(BLUE) - 1)
    assert "more than" in refused.value.message and refused.value.param == "messages[0].content[1].image_url"

