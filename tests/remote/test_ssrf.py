"""The SSRF guard: address forms, names that resolve inward, redirects, DNS rebinding."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from toolwire._errors import ToolFailure
from toolwire.remote._http import HttpClient
from toolwire.remote._ssrf import Guard, _host_verdict, client_host, forbidden_reason, parse_ip

FORBIDDEN_TARGETS = [
    "http://127.0.0.1/",
    "http://127.255.1.2:8080/x",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0177.0.0.01/",
    "http://127.1/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://[::1]/",
    "http://[::]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[2002:7f00:1::]/",
    "http://[64:ff9b::a00:1]/",
    "http://[::127.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[ff02::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://100.100.100.200/latest/meta-data",
    "http://100.64.0.1/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://198.18.0.1/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.GOOGLE.INTERNAL./",
    "http://metadata/",
    "http://localhost/",
    "http://localhost./",
    "https://ip6-localhost/",
]


async def _no_dns(host: str, port: int) -> list[str]:
    table = {
        "localhost": ["127.0.0.1", "::1"],
        "ip6-localhost": ["::1"],
        "public.test": ["93.184.216.34"],
        "inward.test": ["93.184.216.34", "10.1.2.3"],
    }
    if host not in table:
        raise socket.gaierror(f"unknown host {host}")
    return table[host]


@pytest.mark.anyio
@pytest.mark.parametrize("url", FORBIDDEN_TARGETS)
async def test_forbidden_targets_are_refused(url: str) -> None:
    with pytest.raises(ToolFailure) as info:
        await Guard(resolver=_no_dns).check_url(url)
    assert info.value.kind == "forbidden"
    assert info.value.details["address"] in info.value.message


@pytest.mark.anyio
async def test_system_resolver_refuses_localhost_names() -> None:
    for url in ("http://localhost/", "http://LocalHost:1/"):
        with pytest.raises(ToolFailure) as info:
            await Guard().check_url(url)
        assert info.value.kind == "forbidden"
        assert info.value.details["address"] in ("127.0.0.1", "::1")


@pytest.mark.anyio
async def test_name_resolving_partly_inward_is_refused() -> None:
    with pytest.raises(ToolFailure) as info:
        await Guard(resolver=_no_dns).check_url("https://inward.test/a")
    assert info.value.details["address"] == "10.1.2.3"
    assert await Guard(resolver=_no_dns).check_url("https://public.test/a") == ["93.184.216.34"]


@pytest.mark.anyio
async def test_public_addresses_and_allowlist_pass() -> None:
    assert await Guard().check_url("http://93.184.216.34/") == ["93.184.216.34"]
    assert await Guard().check_url("http://[2606:4700:4700::1111]/")
    guard = Guard(allow_hosts=("localhost", "10.0.0.0/8", "*.corp.test", "[::1]:8080"))
    assert await guard.check_url("http://localhost:9/") == []
    assert await guard.check_url("http://10.9.9.9/") == []
    assert await guard.check_url("http://api.corp.test/") == []
    assert await guard.check_url("http://[::1]:8080/") == []
    for refused in ("http://192.168.0.1/", "http://[::1]/"):  # [::1]:8080 opens port 8080 only
        with pytest.raises(ToolFailure):
            await guard.check_url(refused)


@pytest.mark.anyio
@pytest.mark.parametrize("url", ["ftp://93.184.216.34/", "file:///etc/passwd", "http:///x"])
async def test_other_schemes_and_hostless_urls_are_refused(url: str) -> None:
    with pytest.raises(ToolFailure) as info:
        await Guard().check_url(url)
    assert info.value.kind == "forbidden"


@pytest.mark.anyio
async def test_unresolvable_names_are_a_remote_error() -> None:
    with pytest.raises(ToolFailure) as info:
        await Guard(resolver=_no_dns).check_url("http://nowhere.test/")
    assert info.value.kind == "remote_error"


def test_parse_ip_legacy_forms() -> None:
    loop = ipaddress.IPv4Address("127.0.0.1")
    for form in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.0.0.1", "127.0.1"):
        assert parse_ip(form) == loop, form
    for bad in ("example.com", "1.2.3.4.5", "256.1.1.1", "0x1g", "99999999999", "", "1..2"):
        assert parse_ip(bad) is None, bad


ipv4 = st.integers(min_value=0, max_value=2**32 - 1).map(ipaddress.IPv4Address)


def _forms(ip: ipaddress.IPv4Address) -> list[str]:
    n = int(ip)
    a, b, c, d = ip.packed
    return [
        str(ip),
        str(n),
        hex(n),
        "0" + oct(n)[2:],
        f"0{a:o}.0{b:o}.0{c:o}.0{d:o}",
        f"{a:#x}.{b:#x}.{c:#x}.{d:#x}",
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"{a}.{b}.{(c << 8) | d}",
        f"[::ffff:{ip}]",
    ]


@given(ipv4)
def test_every_form_of_an_address_means_the_same_address(ip: ipaddress.IPv4Address) -> None:
    for form in _forms(ip):
        parsed = parse_ip(form)
        if isinstance(parsed, ipaddress.IPv6Address):
            parsed = parsed.ipv4_mapped
        assert parsed == ip, form


@given(
    st.sampled_from(
        [
            *("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"),
            *("100.64.0.0/10", "224.0.0.0/4", "0.0.0.0/8", "240.0.0.0/4"),
        ]
    ),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_any_form_of_an_inner_address_is_refused(net: str, offset: int) -> None:
    network = ipaddress.ip_network(net)
    ip = network[offset % network.num_addresses]
    assert forbidden_reason(ip)
    for form in _forms(ip):
        parsed = parse_ip(form)
        assert parsed is not None and forbidden_reason(parsed), form
    six = ipaddress.IPv6Address(f"2002:{int(ip) >> 16:x}:{int(ip) & 0xFFFF:x}::1")
    assert forbidden_reason(six)
    assert forbidden_reason(ipaddress.IPv6Address(f"64:ff9b::{ip}"))


# --- against a real local server ------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def secret(request: web.Request) -> web.Response:
        return web.json_response({"secret": True})

    async def bounce(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def forever(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def headers(request: web.Request) -> web.Response:
        return web.json_response({"authorization": request.headers.get("Authorization")})

    app = web.Application()
    app.router.add_get("/headers", headers)
    app.router.add_get("/loop", forever)
    app.router.add_get("/secret", secret)
    app.router.add_get("/bounce", bounce)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"{port}"
    await runner.cleanup()


@pytest.mark.anyio
async def test_redirect_to_a_non_allowlisted_address_is_refused(server: str) -> None:
    client = HttpClient(Guard(allow_hosts=("localhost",)))
    try:
        ok = await client.request("GET", f"http://localhost:{server}/secret")
        assert ok.json() == {"secret": True}
        to = f"http://127.0.0.1:{server}/secret"
        with pytest.raises(ToolFailure) as info:
            await client.request("GET", f"http://localhost:{server}/bounce?to={to}")
        assert info.value.kind == "forbidden"
        assert "127.0.0.1" in info.value.message
        relative = await client.request("GET", f"http://localhost:{server}/bounce?to=/secret")
        assert relative.json() == {"secret": True}
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_names_are_resolved_once_and_checked_at_connect_time(server: str) -> None:
    """The addresses checked are the addresses connected to: no second lookup to rebind."""
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    client = HttpClient(Guard(resolver=rebinding))
    try:
        with pytest.raises(ToolFailure) as info:
            await client.request("GET", f"http://rebind.test:{server}/secret")
        assert info.value.kind == "forbidden"
        assert info.value.details["address"] == "127.0.0.1"
        assert lookups == ["rebind.test"]
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_too_many_redirects_and_connection_errors(server: str) -> None:
    client = HttpClient(Guard(allow_hosts=("127.0.0.1",)))
    try:
        loop_url = f"http://127.0.0.1:{server}/loop"
        with pytest.raises(ToolFailure) as info:
            await client.request("GET", loop_url)
        assert info.value.kind == "remote_error"
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
        sock.close()
        with pytest.raises(ToolFailure) as info:
            await client.request("GET", f"http://127.0.0.1:{closed_port}/")
        assert info.value.kind == "remote_error"
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_credentials_do_not_follow_a_redirect_to_another_host(server: str) -> None:
    client = HttpClient(Guard(allow_hosts=("localhost", "127.0.0.1")))
    auth = {"Authorization": "Bearer secret"}
    try:
        same = await client.request(
            "GET", f"http://127.0.0.1:{server}/bounce?to=/headers", headers=auth
        )
        assert same.json() == {"authorization": "Bearer secret"}
        to = f"http://localhost:{server}/headers"
        other = await client.request(
            "GET", f"http://127.0.0.1:{server}/bounce?to={to}", headers=auth
        )
        assert other.json() == {"authorization": None}
    finally:
        await client.aclose()


# --- Unicode / IDNA spellings: the guard judges the host the client dials ---------------------

# Dots and digits that IDNA (UTS 46) maps to ASCII; yarl, and so aiohttp, applies that mapping.
_DOTS = ("\u3002", "\uff0e", "\uff61")
_DIGITS = {
    **{str(d): chr(0xFF10 + d) for d in range(10)},  # fullwidth
}
_CIRCLED = {str(d): chr(0x2460 + d - 1) for d in range(1, 10)}  # ① .. ⑨
# Latin-1 superscripts survive an HTTP header (aiohttp decodes headers as Latin-1), so a
# hostile server can put them in a redirect's Location.
_SUPERSCRIPT = {"1": "\u00b9", "2": "\u00b2", "3": "\u00b3"}


def _unicode_spellings(dotted: str) -> list[str]:
    """Spellings of ``dotted`` (an address in any numeric form) that the client maps back."""
    full = "".join(_DIGITS.get(ch, ch) for ch in dotted)
    circled = "".join(_CIRCLED.get(ch, ch) for ch in dotted)
    return [
        *(dotted.replace(".", dot) for dot in _DOTS),
        full,
        full.replace(".", "\u3002"),
        circled,
        _superscript(dotted),
    ]


def _superscript(dotted: str) -> str:
    return "".join(_SUPERSCRIPT.get(ch, ch) for ch in dotted)


UNICODE_TARGETS = [
    "127\u30020\u30020\u30021",
    "\u2460\u2461\u2466.0.0.1",
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",
    "127\uff0e0\uff0e0\uff0e1",
    "127\uff610\uff610\uff611",
    "\u2460\u2461\u2466.\u2460",  # 127.1
    "0x7f\u30021",  # 0x7f.1
    "2130706433\u3002",
    "\uff12\uff11\uff13\uff10\uff17\uff10\uff16\uff14\uff13\uff13",  # 2130706433
    "169\u3002254\u3002169\u3002254",
    "\u2469.\u2460.\u2461.\u2462",  # ⑩.①.②.③ -> 10.1.2.3
    "\u00b9\u00b27.0.0.1",  # ¹²7.0.0.1
]


@pytest.mark.anyio
@pytest.mark.parametrize("host", UNICODE_TARGETS)
async def test_unicode_spellings_of_inner_addresses_are_refused(host: str) -> None:
    with pytest.raises(ToolFailure) as info:
        await Guard(resolver=_no_dns).check_url(f"http://{host}:8080/x")
    assert info.value.kind == "forbidden"


@given(
    st.sampled_from(
        ["127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.1", "127.1", "0.0.0.0"]
    ),
    st.data(),
)
def test_any_lookalike_dot_or_digit_spelling_is_refused(dotted: str, data: st.DataObject) -> None:
    """Mixing look-alike dots and digits character by character never gets past the guard."""
    chars = []
    for ch in dotted:
        options = [ch]
        if ch == ".":
            options += list(_DOTS)
        elif ch.isdigit():
            options.append(_DIGITS[ch])
            if ch in _CIRCLED:
                options.append(_CIRCLED[ch])
            if ch in _SUPERSCRIPT:
                options.append(_SUPERSCRIPT[ch])
        chars.append(data.draw(st.sampled_from(options)))
    host = "".join(chars)
    _, dialled, _ = client_host(f"http://{host}/")
    verdict, _ = _host_verdict(Guard(), dialled, 80)
    assert verdict == "forbid", (host, dialled)


@pytest.fixture
async def hits() -> AsyncIterator[tuple[int, list[str]]]:
    """A server that must never be reached: it records every request it gets."""
    seen: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        return web.Response(text="INTERNAL SECRET")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield port, seen
    await runner.cleanup()


@pytest.mark.anyio
async def test_unicode_spellings_never_reach_a_local_server(
    hits: tuple[int, list[str]],
) -> None:
    port, seen = hits
    client = HttpClient(Guard())
    try:
        for dotted in ("127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1"):
            for host in _unicode_spellings(dotted):
                with pytest.raises(ToolFailure) as info:
                    await client.request("GET", f"http://{host}:{port}/secret")
                assert info.value.kind == "forbidden", host
    finally:
        await client.aclose()
    assert seen == []


@pytest.mark.anyio
async def test_unicode_spellings_on_a_redirect_hop_never_reach_a_local_server(
    hits: tuple[int, list[str]],
) -> None:
    port, seen = hits
    targets = [
        f"http://{_superscript(dotted)}:{port}/secret"
        for dotted in ("127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.01")
    ]

    async def bounce(request: web.Request) -> web.Response:
        # sent as raw Latin-1 bytes, as a hostile server would; the client reads them back
        return web.Response(status=302, headers={"Location": targets[int(request.query["i"])]})

    app = web.Application()
    app.router.add_get("/bounce", bounce)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bounce_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    # the first hop is allowlisted by name; the redirect target is not
    client = HttpClient(Guard(allow_hosts=(f"localhost:{bounce_port}",)))
    try:
        for i in range(len(targets)):
            with pytest.raises(ToolFailure) as info:
                await client.request("GET", f"http://localhost:{bounce_port}/bounce?i={i}")
            assert info.value.kind == "forbidden", targets[i]
    finally:
        await client.aclose()
        await runner.cleanup()
    assert seen == []


@pytest.mark.anyio
async def test_connector_refuses_literal_addresses_even_when_the_url_check_is_skipped(
    hits: tuple[int, list[str]],
) -> None:
    """The backstop: the connector checks every address it dials, literal ones included."""
    port, seen = hits
    client = HttpClient(Guard())
    try:
        for url in (f"http://127.0.0.1:{port}/", f"http://127\u30020\u30020\u30021:{port}/"):
            with pytest.raises(ToolFailure) as info:
                await client._send("GET", url, None, {}, None, 5.0)
            assert info.value.kind == "forbidden"
    finally:
        await client.aclose()
    assert seen == []
    allowed = HttpClient(Guard(allow_hosts=("127.0.0.1",)))
    try:
        ok = await allowed._send(
            "GET", f"http://127\uff0e0\uff0e0\uff0e1:{port}/ok", None, {}, None, 5.0
        )
        assert ok.status == 200
    finally:
        await allowed.aclose()
    assert seen == ["/ok"]
