"""``allow_hosts`` entries with a port open that port only, for every importer.

``127.0.0.1:8080`` used to open every port of 127.0.0.1 (the port was parsed off and thrown
away). Each importer that takes ``allow_hosts`` (OpenAPI, gRPC, MCP) is tried against a real
server on loopback: allowed on the listed port, ``forbidden`` on another one.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from aiohttp import web
from mcp.server.mcpserver import MCPServer

from toolwire._context import Context
from toolwire._errors import ToolFailure
from toolwire._tools import Tool
from toolwire.remote import grpc as remote_grpc
from toolwire.remote import mcp as remote_mcp
from toolwire.remote import openapi
from toolwire.remote._http import HttpClient, close_clients
from toolwire.remote._ssrf import Guard


async def _no_dns(host: str, port: int) -> list[str]:
    return {"inward.test": ["10.1.2.3"], "api.corp.test": ["192.168.9.9"]}.get(host, [])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _refused(guard: Guard, url: str) -> ToolFailure:
    with pytest.raises(ToolFailure) as info:
        await guard.check_url(url)
    assert info.value.kind == "forbidden", url
    return info.value


@pytest.mark.anyio
async def test_an_entry_with_a_port_opens_only_that_port() -> None:
    guard = Guard(allow_hosts=("127.0.0.1:8080",), resolver=_no_dns)
    assert await guard.check_url("http://127.0.0.1:8080/x") == []
    for url in ("http://127.0.0.1:8081/", "http://127.0.0.1/", "https://127.0.0.1/"):
        failure = await _refused(guard, url)
        assert failure.details["address"] == "127.0.0.1"
    # the scheme's default port is the port an entry is compared with
    default = Guard(allow_hosts=("127.0.0.1:80", "localhost:443"))
    assert await default.check_url("http://127.0.0.1/") == []
    assert await default.check_url("https://localhost/") == []
    await _refused(default, "https://127.0.0.1/")


@pytest.mark.anyio
async def test_ipv6_names_wildcards_and_networks_with_ports() -> None:
    guard = Guard(
        allow_hosts=("[::1]:8080", "localhost:9000", "*.corp.test:443", "10.0.0.0/8", "::2"),
        resolver=_no_dns,
    )
    assert await guard.check_url("http://[::1]:8080/") == []
    await _refused(guard, "http://[::1]:8081/")
    await _refused(guard, "http://[::1]/")
    assert await guard.check_url("http://localhost:9000/") == []
    assert await guard.check_url("https://api.corp.test/") == []
    await _refused(guard, "http://api.corp.test/")  # port 80: judged by its address
    # entries without a port keep meaning every port
    assert await guard.check_url("http://10.1.2.3:1234/") == []
    assert await guard.check_url("http://inward.test:5/") == ["10.1.2.3"]
    assert await guard.check_url("http://[::2]:7/") == []


def test_malformed_entries_are_refused_when_the_guard_is_made() -> None:
    for entry in ("127.0.0.1:http", "[::1", "[::1]8080", "host:99999", "host:", ""):
        with pytest.raises(ValueError, match="allow_hosts"):
            Guard(allow_hosts=(entry,))
    Guard(allow_hosts=("unix:/run/tools.sock",))  # a gRPC socket entry, matched exactly


def test_connection_time_checks_use_the_port_too() -> None:
    guard = Guard(allow_hosts=("127.0.0.1:8080",))
    guard.check_addresses("//127.0.0.1:8080", "127.0.0.1", ["127.0.0.1"], 8080)
    with pytest.raises(ToolFailure):
        guard.check_addresses("//127.0.0.1:8081", "127.0.0.1", ["127.0.0.1"], 8081)
    named = Guard(allow_hosts=("db.test:5432",))
    named.check_addresses("//db.test:5432", "db.test", ["10.0.0.1"], 5432)
    with pytest.raises(ToolFailure):
        named.check_addresses("//db.test:22", "db.test", ["10.0.0.1"], 22)


# --- HTTP / OpenAPI -------------------------------------------------------------------------


async def _site(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


@pytest.fixture
async def two_ports() -> AsyncIterator[tuple[int, int, list[str]]]:
    """Two HTTP servers on loopback: ``open`` serves a spec whose server is the other one."""
    seen: list[str] = []
    other_holder: list[int] = []

    async def secret(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"secret": True})

    async def spec(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "openapi": "3.1.0",
                "servers": [{"url": f"http://127.0.0.1:{other_holder[0]}"}],
                "paths": {"/secret": {"get": {"operationId": "secret"}}},
            }
        )

    async def bounce(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://127.0.0.1:{other_holder[0]}/secret")

    hidden = web.Application()
    hidden.router.add_get("/secret", secret)
    hidden_runner, hidden_port = await _site(hidden)
    other_holder.append(hidden_port)
    public = web.Application()
    public.router.add_get("/openapi.json", spec)
    public.router.add_get("/bounce", bounce)
    public.router.add_get("/secret", secret)
    public_runner, public_port = await _site(public)
    yield public_port, hidden_port, seen
    await close_clients()
    await public_runner.cleanup()
    await hidden_runner.cleanup()


async def _call(t: Tool, args: dict[str, Any]) -> Any:
    ctx = Context(call_id="c", tool_name=t.name)
    return await t.require_handler()(**t.bind(t.validate(args), ctx))


@pytest.mark.anyio
async def test_openapi_reaches_only_the_allowlisted_port(
    two_ports: tuple[int, int, list[str]],
) -> None:
    open_port, hidden_port, seen = two_ports
    allow = [f"127.0.0.1:{open_port}"]
    tools = await openapi.load(f"http://127.0.0.1:{open_port}/openapi.json", allow_hosts=allow)
    with pytest.raises(ToolFailure) as info:
        await _call(tools[0], {})  # the document's server is the other port
    assert info.value.kind == "forbidden" and info.value.details["address"] == "127.0.0.1"
    client = HttpClient(Guard(allow_hosts=tuple(allow)))
    try:
        assert (await client.request("GET", f"http://127.0.0.1:{open_port}/secret")).status == 200
        with pytest.raises(ToolFailure) as hop:
            await client.request("GET", f"http://127.0.0.1:{open_port}/bounce")
        assert hop.value.kind == "forbidden"
    finally:
        await client.aclose()
    assert seen == ["/secret"]  # the open port's own; the hidden one was never reached
    both = await openapi.load(
        f"http://127.0.0.1:{open_port}/openapi.json",
        allow_hosts=[*allow, f"127.0.0.1:{hidden_port}"],
    )
    assert await _call(both[0], {}) == {"secret": True}


# --- gRPC -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_grpc_reaches_only_the_allowlisted_port() -> None:
    from test_remote_grpc_guard import _ping_server

    server, port = await _ping_server("127.0.0.1:0")
    try:
        tools = await remote_grpc.load(f"127.0.0.1:{port}", allow_hosts=[f"127.0.0.1:{port}"])
        assert tools
        with pytest.raises(ToolFailure) as info:
            await remote_grpc.load(f"127.0.0.1:{port}", allow_hosts=[f"127.0.0.1:{port + 1}"])
        assert info.value.kind == "forbidden" and info.value.details["address"] == "127.0.0.1"
        with pytest.raises(ToolFailure):
            await remote_grpc.load(f"[::1]:{port}", allow_hosts=[f"[::1]:{port + 1}"])
    finally:
        await remote_grpc.close_channels()
        await server.stop(None)


# --- MCP ------------------------------------------------------------------------------------

mcp_app = MCPServer("toolwire-port-test", log_level="WARNING")


@mcp_app.tool()
def ping() -> str:
    """Answer pong."""
    return "pong"


@pytest.fixture
async def mcp_url() -> AsyncIterator[tuple[str, int]]:
    config = uvicorn.Config(
        mcp_app.streamable_http_app(), host="127.0.0.1", port=0, log_level="warning"
    )
    web_server = uvicorn.Server(config)
    task = asyncio.create_task(web_server.serve())
    for _ in range(500):
        if web_server.started:
            break
        await asyncio.sleep(0.01)
    port = web_server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/mcp", port
    finally:
        try:
            async with asyncio.timeout(10):
                await remote_mcp.close_sessions()
        finally:
            web_server.should_exit = True
            await asyncio.wait_for(task, 10)


@pytest.mark.anyio
async def test_mcp_reaches_only_the_allowlisted_port(mcp_url: tuple[str, int]) -> None:
    url, port = mcp_url
    tools = await remote_mcp.load(url, allow_hosts=[f"127.0.0.1:{port}"])
    assert [t.name for t in tools] == ["ping"]
    elsewhere = _free_port()
    with pytest.raises(ToolFailure) as info:
        await remote_mcp.load(url, allow_hosts=[f"127.0.0.1:{elsewhere}"])
    assert info.value.kind == "forbidden"
