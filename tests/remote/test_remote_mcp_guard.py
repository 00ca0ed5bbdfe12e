"""MCP over HTTP: every request of the long-lived session passes the SSRF guard, and a tool
whose schema cannot be used is skipped without sinking the import.

The server runs on 127.0.0.1 and is reached as ``mcp.test``, a name only the injected
resolver knows, so a test can move the name elsewhere in the middle of a session (DNS
rebinding) and see the next request refused, with the address named.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations

from toolwire._context import Context
from toolwire._errors import ToolFailure
from toolwire._tools import Tool
from toolwire.remote import mcp as remote_mcp

Asgi = Callable[..., Awaitable[None]]
METADATA = "169.254.169.254"

server = MCPServer("toolwire-guard-test", log_level="WARNING")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def lookup(code: str) -> str:
    """Look a code up (its schema is broken below)."""
    return code


# A pattern no regex engine compiles: the tool cannot be validated, so it must be skipped.
_broken = server._tool_manager.get_tool("lookup")
assert _broken is not None
_broken.parameters["properties"]["code"]["pattern"] = "(unclosed"


class Dns:
    """The resolver of the name ``mcp.test``: 127.0.0.1 until a test moves it."""

    def __init__(self) -> None:
        self.answer = "127.0.0.1"
        self.lookups = 0
        self.once: str | None = None  # the answer to the next lookup only
        self.shots = 0  # how many one-shot answers were given

    async def __call__(self, host: str, port: int) -> list[str]:
        if host != "mcp.test":
            raise OSError(f"unknown host {host}")
        self.lookups += 1
        if self.once is not None:
            answer, self.once = self.once, None
            self.shots += 1
            return [answer]
        return [self.answer]


class Redirector:
    """Answers the next POST, once armed, with a 307 to :attr:`location`; by default a
    same-origin one that moves the name too (the redirect races a DNS change: the hop it asks
    for must be checked again)."""

    def __init__(self, app: Asgi, dns: Dns) -> None:
        self.app = app
        self.dns = dns
        self.armed = False
        self.location = b"/mcp"
        self.move_to: str | None = METADATA
        self.posts = 0
        self.legacy = False  # refuse the modern ``server/discover`` probe: initialize + GET
        self.short_gets = False  # answer each event-stream GET with a stream that ends at once
        self.cut_posts = 0  # cut the connection of this many POSTs mid-response

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.short_gets:
            # the SDK opens the stream again a second later: a fresh request, looked up anew
            headers = [(b"content-type", b"text/event-stream")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["type"] == "http" and scope["method"] == "POST" and self.legacy:
            body = b""
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            if b'"server/discover"' in body:  # a pre-2026 server: the client falls back
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            replay = [{"type": "http.request", "body": body, "more_body": False}]
            upstream = receive

            async def receive() -> Any:  # the body once more, then the real connection
                return replay.pop() if replay else await upstream()

        if scope["type"] == "http" and scope["method"] == "POST" and self.cut_posts:
            self.cut_posts -= 1
            self.posts += 1
            headers = [(b"content-type", b"application/json"), (b"content-length", b"999")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise ConnectionResetError("cut mid-response")  # the server drops the connection
        if scope["type"] == "http" and scope["method"] == "POST":
            self.posts += 1
            if self.armed:
                self.armed = False
                more = True
                while more:
                    more = (await receive()).get("more_body", False)
                if self.move_to is not None:
                    self.dns.answer = self.move_to
                await send(
                    {
                        "type": "http.response.start",
                        "status": 307,
                        "headers": [(b"location", self.location), (b"content-length", b"0")],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


@pytest.fixture
async def guarded() -> AsyncIterator[tuple[str, Dns, Redirector]]:
    dns = Dns()
    security = TransportSecuritySettings(allowed_hosts=["mcp.test:*", "127.0.0.1:*"])
    app = Redirector(server.streamable_http_app(transport_security=security), dns)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    web = uvicorn.Server(config)
    task = asyncio.create_task(web.serve())
    for _ in range(500):
        if web.started:
            break
        await asyncio.sleep(0.01)
    port = web.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://mcp.test:{port}/mcp", dns, app
    finally:
        try:
            async with asyncio.timeout(10):
                await remote_mcp.close_sessions()
        finally:
            web.should_exit = True
            await asyncio.wait_for(task, 10)  # a server that will not stop fails, not hangs


async def _call(t: Tool, args: dict[str, Any]) -> Any:
    ctx = Context(call_id="c", tool_name=t.name)
    return await t.require_handler()(**t.bind(t.validate(args), ctx))


async def _load(url: str, dns: Dns) -> dict[str, Tool]:
    tools = await remote_mcp.load(url, allow_hosts=["127.0.0.1"], resolver=dns)
    return {t.name: t for t in tools}


def _assert_refused(info: pytest.ExceptionInfo[ToolFailure], address: str) -> None:
    assert info.value.kind == "forbidden"
    assert info.value.details["address"] == address
    assert address in info.value.message


@pytest.mark.anyio
async def test_allowlisted_address_works_and_each_request_is_checked(
    guarded: tuple[str, Dns, Redirector],
) -> None:
    url, dns, _ = guarded
    tools = await _load(url, dns)
    before = dns.lookups
    for i in range(3):
        assert await _call(tools["add"], {"a": i, "b": 1}) == {"result": i + 1}
    # one session, yet every request of it was resolved and checked again
    assert remote_mcp.session_of(tools["add"]).opened == 1
    assert dns.lookups >= before + 3


@pytest.mark.anyio
async def test_name_moved_to_a_forbidden_address_is_refused_mid_session(
    guarded: tuple[str, Dns, Redirector],
) -> None:
    url, dns, app = guarded
    tools = await _load(url, dns)
    assert await _call(tools["add"], {"a": 1, "b": 2}) == {"result": 3}
    posts = app.posts
    dns.answer = "10.1.2.3"  # DNS rebinding: the same name, now a private address
    with pytest.raises(ToolFailure) as info:
        await _call(tools["add"], {"a": 1, "b": 2})
    _assert_refused(info, "10.1.2.3")
    assert app.posts == posts  # refused before anything was sent
    with pytest.raises(ToolFailure) as again:  # a new session is checked the same way
        await _call(tools["add"], {"a": 1, "b": 2})
    _assert_refused(again, "10.1.2.3")
    dns.answer = "127.0.0.1"
    assert await _call(tools["add"], {"a": 2, "b": 2}) == {"result": 4}


@pytest.mark.anyio
async def test_redirect_hop_to_a_forbidden_address_is_refused(
    guarded: tuple[str, Dns, Redirector],
) -> None:
    url, dns, app = guarded
    tools = await _load(url, dns)
    app.armed = True
    with pytest.raises(ToolFailure) as info:
        await _call(tools["add"], {"a": 1, "b": 2})
    _assert_refused(info, METADATA)
    assert "cloud metadata" in info.value.message
    dns.answer = "127.0.0.1"
    assert await _call(tools["add"], {"a": 5, "b": 5}) == {"result": 10}
    assert remote_mcp.session_of(tools["add"]).opened == 2


@pytest.mark.anyio
async def test_redirect_to_another_origin_is_not_followed(
    guarded: tuple[str, Dns, Redirector],
) -> None:
    url, dns, app = guarded
    tools = await _load(url, dns)
    app.location, app.move_to, app.armed = f"http://{METADATA}/mcp".encode(), None, True
    with pytest.raises(ToolFailure) as info:  # the SDK never leaves the endpoint's origin
        await _call(tools["add"], {"a": 1, "b": 2})
    assert info.value.kind == "remote_error" and METADATA in info.value.message
    assert await _call(tools["add"], {"a": 3, "b": 3}) == {"result": 6}
    assert remote_mcp.session_of(tools["add"]).opened == 1  # the session was never broken


@pytest.mark.anyio
async def test_load_refuses_a_name_that_resolves_to_a_forbidden_address(
    guarded: tuple[str, Dns, Redirector],
) -> None:
    url, dns, app = guarded
    dns.answer = "127.0.0.1"
    with pytest.raises(ToolFailure) as info:  # loopback, not allowlisted
        await remote_mcp.load(url, resolver=dns)
    _assert_refused(info, "127.0.0.1")
    dns.answer = METADATA
    with pytest.raises(ToolFailure) as meta:  # allowlisting loopback does not open metadata
        await remote_mcp.load(url, allow_hosts=["127.0.0.1"], resolver=dns)
    _assert_refused(meta, METADATA)
    assert app.posts == 0
    dns.answer = "127.0.0.1"
    by_name = await remote_mcp.load(url, allow_hosts=["mcp.test"], resolver=dns)
    assert "add" in {t.name for t in by_name}


@pytest.mark.anyio
async def test_a_tool_with_an_unusable_schema_is_skipped(
    guarded: tuple[str, Dns, Redirector], caplog: pytest.LogCaptureFixture
) -> None:
    url, dns, _ = guarded
    with caplog.at_level(logging.WARNING, logger="toolwire.remote"):
        found = await remote_mcp.discover(url, allow_hosts=["127.0.0.1"], resolver=dns)
    assert [t.name for t in found.tools] == ["add"]
    assert list(found.skipped) == ["lookup"]
    assert "pattern" in found.skipped["lookup"] or "regex" in found.skipped["lookup"].lower()
    assert any("lookup" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    assert await _call(found.tools[0], {"a": 1, "b": 1}) == {"result": 2}


@pytest.mark.anyio
async def test_a_refused_event_stream_does_not_make_a_later_break_forbidden(
    guarded: tuple[str, Dns, Redirector],
) -> None:
    """Only the background GET was refused; the call's own requests were not. When the
    session then breaks for another reason, the call fails with ``remote_error``."""
    url, dns, app = guarded
    app.legacy = app.short_gets = True  # a legacy session keeps a server-event GET stream
    tools = await _load(url, dns)
    assert await _call(tools["add"], {"a": 1, "b": 2}) == {"result": 3}
    dns.once = METADATA  # the next lookup is the event stream's reconnection (nothing else runs)
    for _ in range(1000):
        if dns.shots:
            break
        await asyncio.sleep(0.01)
    assert dns.shots == 1
    # the server cuts the call's POST and then the handshake of the session the read-only
    # call is repeated on: a broken connection, not a refusal
    app.cut_posts = 2
    with pytest.raises(ToolFailure) as info:
        await _call(tools["add"], {"a": 1, "b": 2})
    assert info.value.kind == "remote_error", info.value
    assert METADATA not in info.value.message and "address" not in info.value.details
    app.cut_posts = 0
    assert await _call(tools["add"], {"a": 2, "b": 3}) == {"result": 5}
    # and a refusal of the call's own request is still reported as such
    dns.answer = "10.1.2.3"
    with pytest.raises(ToolFailure) as own:
        await _call(tools["add"], {"a": 1, "b": 1})
    _assert_refused(own, "10.1.2.3")
