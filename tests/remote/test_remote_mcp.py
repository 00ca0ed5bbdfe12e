"""MCP import over streamable HTTP and stdio: one long-lived session per server, reconnects."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from toolwire._context import Context
from toolwire._errors import ToolFailure
from toolwire._tools import Tool
from toolwire.remote import mcp as remote_mcp

sys.path.insert(0, str(Path(__file__).parent))
import remote_mcp_server as mcp_server

SERVER_SCRIPT = Path(__file__).parent / "remote_mcp_server.py"
Asgi = Callable[..., Awaitable[None]]


class HandshakeCounter:
    """Counts session handshakes (``initialize`` / ``server/discover``) reaching the server."""

    def __init__(self, app: Asgi) -> None:
        self.app = app
        self.handshakes = 0
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.requests += 1
        if b'"server/discover"' in body or b'"initialize"' in body:
            self.handshakes += 1
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@pytest.fixture
async def http_server() -> AsyncIterator[tuple[str, HandshakeCounter]]:
    counter = HandshakeCounter(mcp_server.server.streamable_http_app())
    config = uvicorn.Config(counter, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/mcp", counter
    finally:
        try:
            async with asyncio.timeout(10):
                await remote_mcp.close_sessions()
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)  # a server that will not stop fails, not hangs


async def _call(t: Tool, args: dict[str, Any], ctx: Context | None = None) -> Any:
    ctx = ctx or Context(call_id="c", tool_name=t.name)
    return await t.require_handler()(**t.bind(t.validate(args), ctx))


@pytest.mark.anyio
async def test_http_tools_hints_and_results(http_server: tuple[str, HandshakeCounter]) -> None:
    url, _ = http_server
    tools = {t.name: t for t in await remote_mcp.load(url, allow_hosts=["127.0.0.1"])}
    assert {"add", "echo", "bump", "pid", "boom", "parts", "slow"} <= set(tools)
    add = tools["add"].spec
    assert add.annotations.read_only and add.annotations.idempotent
    assert add.input_schema["required"] == ["a", "b"] and add.title == "Add two numbers"
    assert tools["echo"].spec.annotations.idempotent
    assert not tools["echo"].spec.annotations.read_only
    assert not tools["echo"].spec.annotations.open_world
    assert tools["bump"].spec.annotations.destructive
    assert not tools["bump"].spec.annotations.idempotent
    assert await _call(tools["add"], {"a": 2, "b": 3}) == {"result": 5}
    assert await _call(tools["parts"], {}) == [
        {"type": "text", "text": "one"},
        {"type": "text", "text": "two"},
    ]
    with pytest.raises(ToolFailure) as info:
        await _call(tools["boom"], {"reason": "x"})
    assert info.value.kind == "execution_error"
    soon = Context(call_id="c", tool_name="slow", deadline=time.monotonic() + 0.3)
    with pytest.raises(ToolFailure) as slow:
        await _call(tools["slow"], {"seconds": 5}, soon)
    assert slow.value.kind == "timeout"
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    followed = Context(call_id="c", tool_name="steps", progress=on_progress)
    assert await _call(tools["steps"], {"count": 3}, followed) == {"result": 3}
    assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
    only = await remote_mcp.load(url, allow_hosts=["127.0.0.1"], include=["e*"], prefix="m_")
    assert [t.name for t in only] == ["m_echo"]


@pytest.mark.anyio
async def test_one_http_session_for_many_calls(http_server: tuple[str, HandshakeCounter]) -> None:
    url, counter = http_server
    tools = {t.name: t for t in await remote_mcp.load(url, allow_hosts=["127.0.0.1"])}
    for i in range(10):
        assert await _call(tools["echo"], {"text": f"#{i}"}) == {"result": f"#{i}"}
    results = await asyncio.gather(*(_call(tools["add"], {"a": i, "b": 1}) for i in range(40)))
    assert [r["result"] for r in results] == [i + 1 for i in range(40)]
    assert counter.handshakes == 1  # one session, opened by load(), reused by 50 calls
    assert counter.requests >= 51
    assert remote_mcp.session_of(tools["add"]).opened == 1


@pytest.mark.anyio
async def test_http_source_passes_the_ssrf_guard(http_server: tuple[str, HandshakeCounter]) -> None:
    url, counter = http_server
    with pytest.raises(ToolFailure) as info:
        await remote_mcp.load(url)
    assert info.value.kind == "forbidden"
    assert counter.requests == 0


@pytest.mark.anyio
async def test_stdio_one_process_and_reconnect_after_kill(tmp_path: Path) -> None:
    log = tmp_path / "spawns.txt"
    command = f"{sys.executable} {SERVER_SCRIPT} {log}"
    try:
        tools = {t.name: t for t in await remote_mcp.load(command)}
        first = (await _call(tools["pid"], {}))["result"]
        for i in range(5):
            assert (await _call(tools["add"], {"a": i, "b": i}))["result"] == 2 * i
        assert await _call(tools["bump"], {}) == {"result": 1}
        spawned = log.read_text().split()
        assert spawned == [str(first)]  # one process for every call so far
        os.kill(first, signal.SIGKILL)
        await asyncio.sleep(0.2)
        # a safe-to-repeat tool: the broken session is replaced and the call goes through
        second = (await _call(tools["pid"], {}))["result"]
        assert second != first and log.read_text().split() == [str(first), str(second)]
        assert remote_mcp.session_of(tools["pid"]).opened == 2
        assert await _call(tools["bump"], {}) == {"result": 1}  # a fresh process
        os.kill(second, signal.SIGKILL)
        await asyncio.sleep(0.2)
        # not safe to repeat: this call fails clearly, the next one reconnects
        with pytest.raises(ToolFailure) as info:
            await _call(tools["bump"], {})
        assert info.value.kind == "remote_error" and "reopened" in info.value.message
        assert await _call(tools["bump"], {}) == {"result": 1}
        assert len(log.read_text().split()) == 3
    finally:
        await remote_mcp.close_sessions()


@pytest.mark.anyio
async def test_bad_sources() -> None:
    with pytest.raises(ValueError):
        remote_mcp.server_parameters("   ")
    params = remote_mcp.server_parameters("python -m 'my server' --flag")
    assert not isinstance(params, str) and params.args == ["-m", "my server", "--flag"]
    with pytest.raises(ToolFailure) as info:
        await remote_mcp.load("/nonexistent/toolwire-mcp-server --stdio")
    assert info.value.kind == "remote_error"
    await remote_mcp.close_sessions()
