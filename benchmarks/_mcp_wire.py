"""A lean MCP load generator: streamable HTTP spoken directly over aiohttp.

The ``mcp`` SDK's ``Client`` spends more CPU per call than the servers it drives (pydantic
models, anyio streams and task groups on every message), so a benchmark driven by it measures
the client. This one does the least a correct client must: build the JSON-RPC request, POST
it with the transport's headers, find our response in the body (JSON, or the SSE event that
carries our request id) and check the answer. Each answer is verified, not counted: an HTTP
error, a JSON-RPC error, an ``isError`` result or content other than the expected value raises
:class:`WireError`, which fails the run.

Two protocol revisions, both plain MCP streamable HTTP:

- ``HANDSHAKE`` (2025-11-25): ``initialize``, the server's ``Mcp-Session-Id``, then
  ``notifications/initialized``; every call carries the session id and ``MCP-Protocol-Version``.
  A stateful server answers each call as a one-event SSE stream.
- ``MODERN`` (2026-07-28): no session; ``server/discover`` once, then every call carries the
  version, client info and capabilities in ``params._meta`` and the ``Mcp-Method`` /
  ``Mcp-Name`` routing headers. This is what the SDK 2.x ``Client`` speaks (answers are JSON),
  so the SDK-client rows and these run the same server code.
"""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import orjson

HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"
_ACCEPT = "application/json, text/event-stream"  # the transport requires both
_CLIENT = {"name": "toolwire-bench-wire", "version": "1"}
_META = {  # the modern revision's per-request envelope
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": _CLIENT,
    "io.modelcontextprotocol/clientCapabilities": {},
}


class WireError(Exception):
    """A wrong, failed or missing answer: the benchmark run fails."""


class WireClient:
    """One MCP client (one session under ``HANDSHAKE``) over a shared aiohttp session.

    Concurrent calls are fine: each has its own request id and its own HTTP request.
    """

    def __init__(self, http: aiohttp.ClientSession, url: str, version: str = HANDSHAKE) -> None:
        if version not in (HANDSHAKE, MODERN):
            raise ValueError(f"unknown protocol version {version!r}")
        self._http, self._url, self._version = http, url, version
        self._ids = itertools.count(1)
        self._headers = {
            "Accept": _ACCEPT,
            "Content-Type": "application/json",
            "MCP-Protocol-Version": version,
        }
        self._session: str | None = None

    async def open(self) -> None:
        if self._version == MODERN:
            found = await self._request(
                "server/discover", {"_meta": _META}, {"Mcp-Method": "server/discover"}
            )
            if MODERN not in found.get("supportedVersions", ()):
                raise WireError(f"server does not speak {MODERN}: {found}")
            return
        params = {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": _CLIENT}
        # Before a version is agreed the request goes without MCP-Protocol-Version.
        headers = {k: v for k, v in self._headers.items() if k != "MCP-Protocol-Version"}
        body = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
        async with self._http.post(self._url, data=orjson.dumps(body), headers=headers) as r:
            session = r.headers.get("Mcp-Session-Id")
            result = _answer(r.status, r.content_type, await r.read(), 0)
        if result.get("protocolVersion") != HANDSHAKE:
            raise WireError(f"server answered protocol {result.get('protocolVersion')!r}")
        if session:  # a stateless server issues none; then there is nothing to send back
            self._session = self._headers["Mcp-Session-Id"] = session
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        async with self._http.post(self._url, data=orjson.dumps(note), headers=self._headers) as r:
            if r.status != 202:
                raise WireError(f"notifications/initialized: HTTP {r.status}")

    async def close(self) -> None:
        if self._session:  # end the session on the server (as the SDK client does)
            async with self._http.delete(self._url, headers=self._headers):
                pass
            self._session = None

    async def call_tool(self, name: str, arguments: dict[str, Any], expect: Any) -> None:
        """``tools/call``; raises :class:`WireError` unless the answer is ``expect``.

        Our tool's value is in the text content as JSON (and in ``structuredContent`` when
        the server declares an output schema): both must equal ``expect``.
        """
        params: dict[str, Any] = {"name": name, "arguments": arguments}
        extra: dict[str, str] = {}
        if self._version == MODERN:
            params["_meta"] = _META
            extra = {"Mcp-Method": "tools/call", "Mcp-Name": name}
        result = await self._request("tools/call", params, extra)
        if result.get("isError") is not False:
            raise WireError(f"{name}: error result {result}")
        content = result.get("content") or [{}]
        if content[0].get("type") != "text" or _loads(content[0].get("text")) != expect:
            raise WireError(f"{name}: unexpected content {content}")
        if "structuredContent" in result and result["structuredContent"] != expect:
            raise WireError(f"{name}: unexpected structured content {result}")

    async def _request(
        self, method: str, params: dict[str, Any], extra: dict[str, str]
    ) -> dict[str, Any]:
        rid = next(self._ids)
        body = orjson.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        headers = {**self._headers, **extra} if extra else self._headers
        async with self._http.post(self._url, data=body, headers=headers) as r:
            # The server ends the SSE stream once it has sent the response, so the whole
            # body is read at once (cheaper than parsing line by line as it arrives).
            return _answer(r.status, r.content_type, await r.read(), rid)


def _answer(status: int, content_type: str, body: bytes, rid: int) -> dict[str, Any]:
    """The ``result`` of the JSON-RPC response to request ``rid`` in an HTTP answer."""
    if status != 200:
        raise WireError(f"HTTP {status}: {body[:300]!r}")
    if content_type == "application/json":
        message = _loads(body)
    elif content_type == "text/event-stream":
        message = _from_sse(body, rid)
    else:
        raise WireError(f"unexpected content type {content_type!r}")
    if not isinstance(message, dict) or message.get("id") != rid:
        raise WireError(f"no response to request {rid}: {body[:300]!r}")
    if "error" in message or not isinstance(message.get("result"), dict):
        raise WireError(f"JSON-RPC error: {message}")
    result: dict[str, Any] = message["result"]
    return result


def _from_sse(body: bytes, rid: int) -> Any:
    """The message with id ``rid`` among the stream's events.

    Events are separated by a blank line; an event's ``data:`` lines joined by newlines are
    its payload. Events without data (a priming event carrying only an ``id:``) and other
    messages (progress or log notifications, requests to the client) are skipped.
    """
    for event in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = [
            line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")
        ]
        if not data:
            continue
        message = _loads(b"\n".join(data))
        if isinstance(message, dict) and message.get("id") == rid:
            return message
    return None


def _loads(data: Any) -> Any:
    try:
        return orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise WireError(f"not JSON: {data!r:.300}") from exc
