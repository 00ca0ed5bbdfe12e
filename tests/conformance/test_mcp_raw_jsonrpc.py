"""MCP over raw JSON-RPC (aiohttp, no SDK) on every protocol revision the ``mcp`` SDK serves.

The revisions come from the installed ``mcp_types.version``: the ``initialize``-handshake ones
(2024-11-05 ... 2025-11-25: a session id, then ``MCP-Protocol-Version`` on every request) and
the per-request-envelope ones (2026-07-28: no handshake and no session; ``server/discover``,
then every request carries its version, client info and capabilities in ``params._meta`` and
the ``Mcp-Method`` / ``Mcp-Name`` routing headers; cancellation is closing the response
stream instead of ``notifications/cancelled``). On each: ``tools/list``, ``tools/call`` on every
return shape (each ``structuredContent`` checked against the listed ``outputSchema`` with the
``jsonschema`` package), invalid arguments, an unknown tool, a tool error, progress,
cancellation, and the bundled packs. Then session ownership: another caller's request for a
session, ``DELETE`` included, is answered as for a session that does not exist.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import jsonschema
import pytest
from conformance_helpers import OTHER_KEY, USER_KEY, Served, jwt_for, serve
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

pytestmark = pytest.mark.anyio

REVISIONS = [*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS]
CLIENT = {"name": "toolwire-conformance-raw", "version": "1"}
ACCEPT = "application/json, text/event-stream"
SHAPES: list[tuple[str, dict[str, Any], Any]] = [
    ("as_object", {"key": "北京"}, {"key": "北京"}),
    ("as_int", {"n": 7}, {"result": 7}),
    ("as_str", {"text": "天气…"}, {"result": "天气…"}),
    ("as_list", {"n": 3}, {"result": [0, 1, 2]}),
    ("as_none", {}, None),
    ("as_model", {"x": 1, "y": 2}, {"x": 1, "y": 2, "label": ""}),
    ("as_optional", {"present": False}, {"result": None}),
]


def test_the_sdk_serves_the_five_known_revisions() -> None:
    assert REVISIONS == ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]


class WireError(AssertionError):
    pass


class RawMcp:
    """The least a correct client does, written from the spec: JSON-RPC over HTTP POST, answers
    as JSON or as an SSE stream read event by event."""

    def __init__(
        self, http: aiohttp.ClientSession, url: str, version: str, auth: dict[str, str]
    ) -> None:
        self.http, self.url, self.version = http, url, version
        self.modern = version in MODERN_PROTOCOL_VERSIONS
        self.ids = itertools.count(1)
        self.headers = {"Accept": ACCEPT, "Content-Type": "application/json", **auth}
        self.session: str | None = None

    async def open(self) -> dict[str, Any]:
        if self.modern:
            self.headers["MCP-Protocol-Version"] = self.version
            found = await self.result("server/discover", {})
            assert self.version in found["supportedVersions"], found
            return found
        params = {"protocolVersion": self.version, "capabilities": {}, "clientInfo": CLIENT}
        body = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
        async with self.http.post(self.url, json=body, headers=self.headers) as r:
            assert r.status == 200, await r.text()
            self.session = r.headers["Mcp-Session-Id"]
            [answer] = [m async for m in _messages(r)]
        assert answer["result"]["protocolVersion"] == self.version, answer
        self.headers |= {"Mcp-Session-Id": self.session, "MCP-Protocol-Version": self.version}
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        async with self.http.post(self.url, json=note, headers=self.headers) as r:
            assert r.status == 202, await r.text()
        result: dict[str, Any] = answer["result"]
        return result

    def _envelope(
        self, method: str, params: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        headers = dict(self.headers)
        if not self.modern:
            return params, headers
        meta = {
            "io.modelcontextprotocol/protocolVersion": self.version,
            "io.modelcontextprotocol/clientInfo": CLIENT,
            "io.modelcontextprotocol/clientCapabilities": {},
            **params.get("_meta", {}),
        }
        headers["Mcp-Method"] = method
        if method == "tools/call":
            headers["Mcp-Name"] = _header_value(params["name"])
        return {**params, "_meta": meta}, headers

    async def request(
        self,
        method: str,
        params: dict[str, Any],
        *,
        on_notification: Callable[[int, dict[str, Any]], Awaitable[bool]] | None = None,
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The response to one request and the notifications sent before it. ``on_notification``
        returning True closes the response stream there (the response is then None)."""
        rid = next(self.ids)
        params, headers = self._envelope(method, params)
        body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        notes: list[dict[str, Any]] = []
        async with asyncio.timeout(20), self.http.post(self.url, json=body, headers=headers) as r:
            if r.status != 200:
                raise WireError(f"{method}: HTTP {r.status} {await r.text()}")
            async for message in _messages(r):
                if message.get("id") == rid:
                    return message, notes
                notes.append(message)
                if on_notification is not None and await on_notification(rid, message):
                    r.close()  # cancellation on the per-request wire: close the stream
                    return None, notes
        return None, notes

    async def result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer, _ = await self.request(method, params)
        if answer is None or "result" not in answer:
            raise WireError(f"{method}: {answer}")
        result: dict[str, Any] = answer["result"]
        return result

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return await self.result("tools/call", {"name": name, "arguments": arguments})

    async def notify(self, method: str, params: dict[str, Any]) -> int:
        body = {"jsonrpc": "2.0", "method": method, "params": params}
        async with self.http.post(self.url, json=body, headers=self.headers) as r:
            return r.status

    async def close(self) -> None:
        if self.session is not None:
            async with self.http.delete(self.url, headers=self.headers) as r:
                assert r.status in (200, 204), r.status
            self.session = None


def _header_value(text: str) -> str:
    """A routing-header value: verbatim when printable ASCII without edge spaces, else the
    spec's ``=?base64?<UTF-8 as base64>?=`` (a tool named 北京 cannot go raw in a header)."""
    plain = text.isascii() and text.isprintable() and text == text.strip()
    if plain and not (text.startswith("=?base64?") and text.endswith("?=")):
        return text
    return f"=?base64?{base64.b64encode(text.encode()).decode()}?="


async def _messages(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """The JSON-RPC messages of an answer: one JSON body, or each SSE event's data."""
    if response.content_type == "application/json":
        yield await response.json()
        return
    assert response.content_type == "text/event-stream", response.content_type
    data: list[bytes] = []
    async for raw in response.content:
        line = raw.rstrip(b"\r\n")
        if line.startswith(b"data:"):
            data.append(line[5:].removeprefix(b" "))
        elif not line and data:
            yield json.loads(b"\n".join(data))
            data = []


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Served]]:
    with (
        serve(tmp_path_factory.mktemp("raw"), grpc=False) as tools,
        serve(tmp_path_factory.mktemp("packs"), tools=("sql:sample", "weather"), grpc=False) as p,
    ):
        yield tools, p


async def session(
    http: aiohttp.ClientSession, server: Served, version: str, key: str = USER_KEY
) -> RawMcp:
    client = RawMcp(http, server.mcp, version, {"X-API-Key": key})
    await client.open()
    return client


@pytest.fixture(params=REVISIONS)
async def client(
    request: pytest.FixtureRequest, servers: tuple[Served, Served]
) -> AsyncIterator[RawMcp]:
    """An open client of the conformance tools on one revision; closed (DELETE) afterwards."""
    async with aiohttp.ClientSession() as http:
        opened = await session(http, servers[0], request.param)
        yield opened
        await opened.close()


def error_kind(result: dict[str, Any]) -> str:
    assert result["isError"] is True, result
    assert "structuredContent" not in result, result
    kind: str = json.loads(result["content"][0]["text"])["error"]["kind"]
    return kind


async def test_every_return_shape_matches_its_listed_output_schema(client: RawMcp) -> None:
    listed = {t["name"]: t for t in (await client.result("tools/list", {}))["tools"]}
    for tool in listed.values():
        schema = tool.get("outputSchema")
        if schema is not None:
            assert schema["type"] == "object", tool
            jsonschema.Draft202012Validator.check_schema(schema)
    for name, arguments, structured in SHAPES:
        result = await client.call(name, arguments)
        assert result["isError"] is False, result
        assert result.get("structuredContent") == structured, (name, result)
        if structured is not None:
            jsonschema.validate(structured, listed[name]["outputSchema"])


async def test_error_results(client: RawMcp) -> None:
    assert error_kind(await client.call("as_int", {"n": "七"})) == "invalid_arguments"
    assert error_kind(await client.call("as_int", {})) == "invalid_arguments"
    assert error_kind(await client.call("北京", {})) == "unknown_tool"
    assert error_kind(await client.call("admin_secret", {})) == "forbidden"
    failed = await client.call("fail", {"kind": "remote_error", "message": "上游…"})
    assert error_kind(failed) == "remote_error"
    assert json.loads(failed["content"][0]["text"])["error"]["message"] == "上游…"


async def test_progress_notifications_precede_the_result(client: RawMcp) -> None:
    version = client.version
    params = {
        "name": "count",
        "arguments": {"steps": 3, "delay": 0.01},
        "_meta": {"progressToken": f"tok-{version}"},
    }
    answer, notes = await client.request("tools/call", params)
    assert answer is not None and answer["result"]["structuredContent"] == {"result": 3}
    progress = [n["params"] for n in notes if n["method"] == "notifications/progress"]
    assert progress == [
        {"progressToken": f"tok-{version}", "progress": i, "total": 3, "message": f"step {i}"}
        for i in (1, 2, 3)
    ]


async def test_cancellation_reaches_the_tool(client: RawMcp) -> None:
    before = (await client.call("cancelled", {}))["structuredContent"]["result"]

    async def cancel(rid: int, note: dict[str, Any]) -> bool:
        if note.get("method") != "notifications/progress":
            return False
        if client.modern:
            return True  # close the stream
        status = await client.notify(
            "notifications/cancelled", {"requestId": rid, "reason": "conformance"}
        )
        assert status == 202
        return False  # keep reading: the server must not answer a cancelled request

    params = {
        "name": "count",
        "arguments": {"steps": 100, "delay": 0.05},
        "_meta": {"progressToken": "cancel-me"},
    }
    try:
        answer, _ = await client.request("tools/call", params, on_notification=cancel)
    except TimeoutError:
        answer = None  # the stream stayed open without an answer: also not answered
    # No result: either no answer (what the spec asks, SHOULD) or, from the SDK's
    # dispatcher on the handshake wire, the error -32800 "Request cancelled".
    assert answer is None or answer["error"]["code"] == -32800, answer
    after = before
    for _ in range(100):  # bounded: the tool's own record of the cancellation
        after = (await client.call("cancelled", {}))["structuredContent"]["result"]
        if after > before:
            break
        await asyncio.sleep(0.05)
    assert after == before + 1


@pytest.mark.parametrize("version", REVISIONS)
async def test_bundled_packs(servers: tuple[Served, Served], version: str) -> None:
    async with aiohttp.ClientSession() as http:
        client = await session(http, servers[1], version)
        listed = {t["name"]: t for t in (await client.result("tools/list", {}))["tools"]}
        assert {"list_tables", "run_query", "get_weather", "search_places"} <= set(listed)
        assert all(t["outputSchema"]["type"] == "object" for t in listed.values()), listed
        tables = await client.call("list_tables", {})
        jsonschema.validate(tables["structuredContent"], listed["list_tables"]["outputSchema"])
        assert {"name": "orders", "type": "table"} in tables["structuredContent"]["result"]
        await client.close()


# --- session ownership ------------------------------------------------------------------


@pytest.mark.parametrize("version", HANDSHAKE_PROTOCOL_VERSIONS)
async def test_a_session_belongs_to_the_caller_that_opened_it(
    servers: tuple[Served, Served], version: str
) -> None:
    server = servers[0]
    async with aiohttp.ClientSession() as http:
        alice = await session(http, server, version, USER_KEY)
        assert alice.session is not None
        body = {"jsonrpc": "2.0", "id": 9, "method": "tools/list"}
        for intruder in (
            {"X-API-Key": OTHER_KEY},  # another valid key
            {"Authorization": f"Bearer {jwt_for('user')}"},  # a JWT whose sub is her key's id
        ):
            headers = {**alice.headers, **intruder}
            headers.pop("X-API-Key") if "Authorization" in intruder else None
            async with http.post(server.mcp, json=body, headers=headers) as r:
                assert r.status == 404, (intruder, await r.text())
            async with http.delete(server.mcp, headers=headers) as r:
                assert r.status == 404, (intruder, await r.text())
        # Still hers, and still alive.
        assert "tools" in await alice.result("tools/list", {})
        await alice.close()
        async with http.post(server.mcp, json=body, headers=alice.headers) as r:
            assert r.status == 404  # ended by its owner
