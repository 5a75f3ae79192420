"""The address guard (http_request, image URLs): address classes, host rules, URL checks, no connecting."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_address, ip_network

import pytest
from yarl import URL

from server.netguard.addresses import address_problem, embedded_ipv4
from server.netguard.guard import FetchFailed, FetchRefused, HttpGuard, system_resolver
from server.netguard.hostrules import parse_host_rule


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoints live here
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("fec0::1", "site-local"),
        ("240.0.0.1", "private"),  # Python counts the old class E range as private
        ("4000::1", "reserved"),
        ("192.0.2.10", "private"),  # documentation range: never a real host
        ("::ffff:127.0.0.1", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("::ffff:10.0.0.1", "private (IPv4 10.0.0.1 inside IPv6)"),
        ("::ffff:169.254.169.254", "link-local (IPv4 169.254.169.254 inside IPv6)"),
        ("::127.0.0.1", "loopback (IPv4 127.0.0.1 inside IPv6)"),  # IPv4-compatible
        ("64:ff9b::a00:1", "private (IPv4 10.0.0.1 inside IPv6)"),  # NAT64
        ("64:ff9b:1::1", "private (local-use NAT64)"),
        ("2002:7f00:1::", "loopback (IPv4 127.0.0.1 inside IPv6)"),  # 6to4
        ("2002:c0a8:101::1", "private (IPv4 192.168.1.1 inside IPv6)"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback (IPv4 127.0.0.1 inside IPv6)"),  # Teredo, obfuscated client
    ],
)
def test_addresses_that_are_not_public(address: str, problem: str) -> None:
    assert address_problem(ip_address(address)) == problem


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700::1111", "::ffff:93.184.215.14", "2002:5db8:d70e::1"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ip_address(address)) is None


def test_embedded_ipv4_is_found_in_every_ipv6_form() -> None:
    forms = ["::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::5"]
    assert {str(embedded_ipv4(ip_address(f))) for f in forms} == {"127.0.0.1"}  # type: ignore[arg-type]
    assert embedded_ipv4(ip_address("2606:4700::1111")) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "host", "port", "matches"),
    [
        ("example.com", "example.com", 443, True),
        ("example.com", "EXAMPLE.com.", 80, True),
        ("example.com", "www.example.com", 443, False),
        ("example.com:8443", "example.com", 443, False),
        ("example.com:8443", "example.com", 8443, True),
        ("*.example.com", "api.example.com", 443, True),
        ("*.example.com", "a.b.example.com", 443, True),
        ("*.example.com", "example.com", 443, False),
        ("*.example.com", "badexample.com", 443, False),
        ("127.0.0.1:8080", "127.0.0.1", 8080, True),
        ("127.0.0.1:8080", "127.0.0.1", 8081, False),
        ("127.0.0.1:8080", "127.0.0.2", 8080, False),
        ("[::1]:8080", "[::1]", 8080, True),
        ("::1", "0:0:0:0:0:0:0:1", 80, True),
        ("*", "anything.test", 1, True),
        ("*:443", "anything.test", 80, False),
    ],
)
def test_host_rules(rule: str, host: str, port: int, matches: bool) -> None:
    assert parse_host_rule(rule).matches(host, port) is matches


@pytest.mark.parametrize("rule", ["http://example.com", "example.com:0", "example.com:99999", "example.com:http", "a b", "[::1]x", ""])
def test_bad_host_rules_are_refused(rule: str) -> None:
    with pytest.raises(ValueError):
        parse_host_rule(rule)


class FakeDns:
    """Answers from a table, counting the questions; nothing leaves the process."""

    def __init__(self, answers: dict[str, list[Sequence[str]]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append((host, port))
        queue = self.answers.get(host)
        if not queue:
            raise OSError(-2, "Name or service not known")
        return queue.pop(0) if len(queue) > 1 else queue[0]


GUARD = HttpGuard(allow=(parse_host_rule("*.example.com"), parse_host_rule("intranet.test"), parse_host_rule("127.0.0.1:8080")))


async def test_a_host_off_the_allowlist_is_refused_before_any_lookup() -> None:
    dns = FakeDns({"evil.test": [["93.184.215.14"]]})
    with pytest.raises(FetchRefused, match=r"evil\.test:80 is not on the operator's allowlist \(AGENT_HTTP_ALLOW\)"):
        await GUARD.check(URL("http://evil.test/"), dns)
    assert dns.asked == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://api.example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:pw@api.example.com/", "credentials in the URL"),
        ("/relative/path", "only http and https"),
    ],
)
async def test_urls_of_the_wrong_form_are_refused(url: str, message: str) -> None:
    with pytest.raises(FetchRefused, match=message):
        await GUARD.check(URL(url), FakeDns({}))


async def test_public_answers_pass_and_every_address_is_kept() -> None:
    dns = FakeDns({"api.example.com": [["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]]})
    target = await GUARD.check(URL("https://api.example.com/v1"), dns)
    assert target.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert (target.host, target.port) == ("api.example.com", 443)
    assert dns.asked == [("api.example.com", 443)]


@pytest.mark.parametrize("bad", ["10.0.0.7", "127.0.0.1", "169.254.169.254", "::1", "::ffff:192.168.0.1", "fe80::1"])
async def test_one_private_address_among_several_refuses_the_host(bad: str) -> None:
    dns = FakeDns({"api.example.com": [["93.184.215.14", bad]]})
    with pytest.raises(FetchRefused, match=f"resolves to {bad}, a "):
        await GUARD.check(URL("https://api.example.com/"), dns)


async def test_literal_private_addresses_are_refused_without_a_lookup() -> None:
    guard = HttpGuard(allow=(parse_host_rule("*"),))
    for url in ("http://127.0.0.1:8080/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data"):
        with pytest.raises(FetchRefused, match="a (loopback|link-local)"):
            await guard.check(URL(url), FakeDns({}))


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f000001", "127.1", "0177.0.0.1", "localhost"])
async def test_other_spellings_of_loopback_resolve_to_it_and_are_refused(spelling: str) -> None:
    # The system resolver parses numeric forms and reads /etc/hosts: no query leaves the machine.
    guard = HttpGuard(allow=(parse_host_rule("*"),))
    with pytest.raises(FetchRefused, match="a loopback address"):
        await guard.check(URL(f"http://{spelling}:8080/"), system_resolver)


async def test_private_addresses_pass_only_where_the_operator_allows_them() -> None:
    by_host = HttpGuard(allow=GUARD.allow, allow_private=(parse_host_rule("127.0.0.1:8080"), parse_host_rule("intranet.test")))
    assert (await by_host.check(URL("http://127.0.0.1:8080/"), FakeDns({}))).addresses == ("127.0.0.1",)
    dns = FakeDns({"intranet.test": [["10.0.0.7"]]})
    assert (await by_host.check(URL("http://intranet.test/"), dns)).addresses == ("10.0.0.7",)
    by_net = HttpGuard(allow=GUARD.allow, private_networks=(ip_network("10.0.0.0/24"),))
    assert (await by_net.check(URL("http://intranet.test/"), FakeDns({"intranet.test": [["10.0.0.7"]]}))).addresses == ("10.0.0.7",)
    with pytest.raises(FetchRefused, match="10.0.1.7, a private address"):
        await by_net.check(URL("http://intranet.test/"), FakeDns({"intranet.test": [["10.0.1.7"]]}))
    # Allowing one host's private address allows nothing else.
    with pytest.raises(FetchRefused, match="10.9.9.9, a private address"):
        await by_host.check(URL("http://api.example.com/"), FakeDns({"api.example.com": [["10.9.9.9"]]}))


async def test_each_check_resolves_once_and_keeps_that_answer() -> None:
    # A rebinding DNS server answers public first, then loopback: the answer checked is the one kept.
    dns = FakeDns({"rebind.example.com": [["93.184.215.14"], ["127.0.0.1"]]})
    target = await GUARD.check(URL("http://rebind.example.com/"), dns)
    assert target.addresses == ("93.184.215.14",)
    assert len(dns.asked) == 1
    with pytest.raises(FetchRefused, match="127.0.0.1, a loopback"):
        await GUARD.check(URL("http://rebind.example.com/"), dns)  # the next hop asks again, and is checked again


async def test_lookups_that_fail_or_answer_nothing_are_tool_failures() -> None:
    with pytest.raises(FetchFailed, match="could not resolve nowhere.example.com"):
        await GUARD.check(URL("http://nowhere.example.com/"), FakeDns({}))
    with pytest.raises(FetchFailed, match="did not resolve to any address"):
        await GUARD.check(URL("http://empty.example.com/"), FakeDns({"empty.example.com": [[]]}))
