"""http_request against local sites: what it sends, what it refuses, how it caps and times out.

Reached: sites on 127.0.0.1 (loopback allowed for their exact port). Refused: the canary on
127.0.0.2, which must never see a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_network
from typing import Any

import pytest

from server.agent.http_tool import HttpRequest
from server.agent.settings import HttpToolSettings
from server.agent.toolset import bridge_secrets
from server.agent.tooltypes import ToolFailed, ToolRefused
from server.netguard.guard import HttpGuard
from server.netguard.hostrules import parse_host_rule
from tests.agent.sites import Site, start_site

SECRET = "sk-bridge-secret-0123456789"


def tool(site: Site, canary: Site, *, max_bytes: int = 4096, timeout_s: float = 5.0, redirects: int = 3,
         resolve: Any = None, extra_allow: Sequence[str] = (), networks: Sequence[str] = ()) -> HttpRequest:
    guard = HttpGuard(
        allow=tuple(parse_host_rule(r) for r in (site.origin, canary.origin, *extra_allow)),
        allow_private=(parse_host_rule(site.origin),),
        private_networks=tuple(ip_network(n) for n in networks),
    )
    settings = HttpToolSettings(guard=guard, timeout_s=timeout_s, max_bytes=max_bytes, max_redirects=redirects)
    return HttpRequest(settings, secrets=[SECRET], **({"resolve": resolve} if resolve else {}))


async def test_get_returns_status_headers_and_body_and_sends_no_credentials(site: Site, canary: Site) -> None:
    result = await tool(site, canary).run({"url": site.url("/status")})
    assert result["status"] == 200
    assert result["body"] == "service is up" and result["truncated"] is False
    assert result["headers"]["X-Site"] == "status"
    (seen,) = site.seen
    assert seen.method == "GET" and seen.path == "/status"
    assert seen.headers["User-Agent"] == "copilot-bridge-agent"
    assert not {"Authorization", "Cookie", "X-Api-Key"} & set(seen.headers)


async def test_method_headers_and_body_are_sent_as_asked(site: Site, canary: Site) -> None:
    result = await tool(site, canary).run(
        {"method": "PUT", "url": site.url("/echo"), "headers": {"Content-Type": "text/plain", "X-Trace": "t1"}, "body": "héllo"}
    )
    assert result["body"] == '{"method": "PUT", "body": "h\\u00e9llo"}'
    assert site.seen[0].headers["X-Trace"] == "t1" and site.seen[0].body == "héllo"


async def test_a_refused_host_is_never_contacted(site: Site, canary: Site) -> None:
    with pytest.raises(ToolRefused, match=r"127\.0\.0\.2:\d+ resolves to 127\.0\.0\.2, a loopback address"):
        await tool(site, canary).run({"url": canary.url("/status")})
    with pytest.raises(ToolRefused, match="not on the operator's allowlist"):
        await tool(site, canary).run({"url": f"http://127.0.0.3:{site.server.port}/status"})
    # Same address, other port: loopback is allowed for the site's port only.
    with pytest.raises(ToolRefused, match="not on the operator's allowlist"):
        await tool(site, canary).run({"url": f"http://127.0.0.1:{canary.server.port}/status"})
    assert canary.seen == []


async def test_a_redirect_to_a_refused_host_stops_before_it(site: Site, canary: Site) -> None:
    with pytest.raises(ToolRefused, match=r"127\.0\.0\.2:\d+ resolves to 127\.0\.0\.2, a loopback"):
        await tool(site, canary).run({"url": site.url(f"/redirect?to={canary.url('/status')}")})
    assert [s.path for s in site.seen] == [f"/redirect?to={canary.url('/status')}"]
    assert canary.seen == []


async def test_redirects_within_the_rules_are_followed_and_capped(site: Site, canary: Site) -> None:
    result = await tool(site, canary).run({"url": site.url(f"/redirect?to={site.url('/json')}")})
    assert result["status"] == 200 and result["url"] == site.url("/json") and result["body"] == '{"status": "up"}'
    loop = site.url("/redirect?to=/redirect%3Fto%3D/status")  # two hops, then the page
    assert (await tool(site, canary, redirects=2).run({"url": loop}))["body"] == "service is up"
    with pytest.raises(ToolFailed, match=r"more than 1 redirects \(AGENT_HTTP_MAX_REDIRECTS\)"):
        await tool(site, canary, redirects=1).run({"url": loop})


async def test_see_other_turns_a_post_into_a_get_without_its_body(site: Site, canary: Site) -> None:
    result = await tool(site, canary).run({"method": "POST", "url": site.url("/see-other"), "body": "form=1"})
    assert result["body"] == '{"method": "GET", "body": ""}'
    assert [(s.method, s.path, s.body) for s in site.seen] == [("POST", "/see-other", "form=1"), ("GET", "/echo", "")]


async def test_credentials_set_by_the_model_do_not_follow_a_redirect_to_another_origin(
    site: Site, canary: Site, aiohttp_server: Any
) -> None:
    other = await start_site(aiohttp_server, "127.0.0.1")
    http = tool(site, canary, extra_allow=[other.origin], networks=["127.0.0.1/32"])
    await http.run({"url": site.url(f"/redirect?to={other.url('/status')}"), "headers": {"Authorization": "Bearer user-token"}})
    assert site.seen[0].headers["Authorization"] == "Bearer user-token"
    assert "Authorization" not in other.seen[0].headers


async def test_the_bridges_own_credentials_are_never_sent(site: Site, canary: Site) -> None:
    http = tool(site, canary)
    for arguments in (
        {"url": site.url("/status"), "headers": {"Authorization": f"Bearer {SECRET}"}},
        {"url": site.url(f"/status?key={SECRET}")},
        {"method": "POST", "url": site.url("/echo"), "body": f"leak {SECRET}"},
    ):
        with pytest.raises(ToolRefused, match="one of the bridge's own credentials"):
            await http.run(arguments)
    assert site.seen == []


@pytest.mark.parametrize("header", ["Host", "content-length", "Transfer-Encoding", "Proxy-Authorization"])
async def test_headers_that_change_where_a_request_goes_are_refused(site: Site, canary: Site, header: str) -> None:
    with pytest.raises(ToolRefused, match="cannot be set"):
        await tool(site, canary).run({"url": site.url("/status"), "headers": {header: "x"}})
    with pytest.raises(ToolRefused, match="cannot contain line breaks"):
        await tool(site, canary).run({"url": site.url("/status"), "headers": {"X-A": "1\r\nHost: evil"}})
    assert site.seen == []


async def test_bodies_are_capped_and_binary_bodies_described(site: Site, canary: Site) -> None:
    result = await tool(site, canary, max_bytes=1000).run({"url": site.url("/big?n=200000")})
    assert result["truncated"] is True and result["body"] == "x" * 1000
    exact = await tool(site, canary, max_bytes=1000).run({"url": site.url("/big?n=1000")})
    assert exact["truncated"] is False and len(exact["body"]) == 1000
    binary = await tool(site, canary).run({"url": site.url("/binary")})
    assert binary["body"] is None and binary["body_omitted"] == "11 bytes of image/png"


async def test_a_slow_server_is_a_timeout_observation(site: Site, canary: Site) -> None:
    with pytest.raises(ToolFailed, match=r"no complete answer within 0.5 s \(AGENT_HTTP_TIMEOUT\)"):
        await tool(site, canary, timeout_s=0.5).run({"url": site.url("/slow?s=5")})


async def test_connection_goes_to_the_checked_address_even_if_dns_changes_its_answer(
    site: Site, canary: Site
) -> None:
    answers = [["127.0.0.1"], ["127.0.0.2"]]
    asked: list[str] = []

    async def rebinding_dns(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[min(len(asked) - 1, 1)]

    http = tool(site, canary, resolve=rebinding_dns, extra_allow=[f"rebind.test:{site.server.port}"], networks=["127.0.0.1/32"])
    result = await http.run({"url": f"http://rebind.test:{site.server.port}/status"})
    assert result["body"] == "service is up"
    assert asked == ["rebind.test"]  # resolved once, by the guard; aiohttp used the pinned answer
    assert site.seen[0].headers["Host"] == f"rebind.test:{site.server.port}"
    assert canary.seen == []


async def test_proxy_settings_in_the_environment_are_ignored(
    site: Site, canary: Site, aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = await start_site(aiohttp_server, "127.0.0.1")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert (await tool(site, canary).run({"url": site.url("/status")}))["status"] == 200
    assert proxy.seen == [] and len(site.seen) == 1


async def test_unreachable_and_malformed_urls_are_failures(site: Site, canary: Site) -> None:
    http = tool(site, canary)
    url = site.url("/status")
    await site.server.close()
    with pytest.raises(ToolFailed, match="the request failed"):
        await http.run({"url": url})
    with pytest.raises(ToolFailed, match="not a valid URL"):
        await http.run({"url": "http://[::1"})


def test_the_bridges_credentials_are_its_keys_and_the_credential_variables_of_its_environment() -> None:
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-0123456789",
        "COPILOT_GITHUB_TOKEN": "gho_abcdefghij",
        "UPSTREAM_API_KEYS": "key-one-123456, key-two-123456",
        "DB_PASSWORD": "hunter2hunter2",
        "PATH": "/usr/local/bin:/usr/bin",
        "HOME": "/home/bridge",
        "SHORT_TOKEN": "abc",  # too short to tell apart from ordinary text
    }
    assert set(bridge_secrets(["sk-bridge-0123456789"], env)) == {
        "sk-bridge-0123456789", "sk-ant-0123456789", "gho_abcdefghij", "key-one-123456", "key-two-123456", "hunter2hunter2",
    }


async def test_a_redirect_to_another_scheme_is_refused(site: Site, canary: Site) -> None:
    with pytest.raises(ToolRefused, match="only http and https URLs"):
        await tool(site, canary).run({"url": site.url("/redirect?to=file:///etc/passwd")})
    assert len(site.seen) == 1
