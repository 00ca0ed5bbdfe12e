"""Faulty upstreams for the remote-source fault suite, one process each (so a test can kill -9).

    python reliability_upstreams.py http|grpc|mcp PORT LOG

Every upstream has a read-only operation (``lookup``) and a non-idempotent one (``charge``);
the caller picks the fault per call with ``mode``: ``ok``, ``flaky`` (30% fail), ``slow``
(2 s), ``hang`` (never answers) or ``delay`` (0.5 s, to be killed mid-call). Each execution
appends ``<op> <key>`` to LOG on entry, before any fault, so the log counts executions.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from typing import Any

LOG = sys.argv[3] if len(sys.argv) > 3 else os.devnull
rng = random.Random(1234)


def _log(op: str, key: str) -> None:
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{op} {key}\n")


async def _fault(mode: str) -> bool:
    """Sleep as the mode says; True when this execution should fail."""
    if mode == "slow":
        await asyncio.sleep(2.0)
    elif mode == "delay":
        await asyncio.sleep(0.5)
    elif mode == "hang":
        await asyncio.Event().wait()
    return mode == "flaky" and rng.random() < 0.3


def serve_http(port: int) -> None:
    from aiohttp import web

    async def lookup(request: web.Request) -> web.Response:
        key, mode = request.query["key"], request.query.get("mode", "ok")
        _log("lookup", key)
        if await _fault(mode):
            return web.json_response({"error": "try again"}, status=503)
        return web.json_response({"key": key})

    async def charge(request: web.Request) -> web.Response:
        body = await request.json()
        _log("charge", body["note"])
        if await _fault(body.get("mode", "ok")):
            return web.json_response({"error": "try again"}, status=503)
        return web.json_response({"note": body["note"]})

    async def spec(request: web.Request) -> web.Response:
        return web.json_response(SPEC)

    app = web.Application()
    app.router.add_get("/lookup", lookup)
    app.router.add_post("/charge", charge)
    app.router.add_get("/openapi.json", spec)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


_MODE = {"type": "string", "enum": ["ok", "flaky", "slow", "hang", "delay"]}
SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "faulty", "version": "1"},
    "paths": {
        "/lookup": {
            "get": {
                "operationId": "lookup",
                "parameters": [
                    {"name": "key", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "mode", "in": "query", "schema": _MODE},
                ],
                "responses": {"200": {"description": "found"}},
            }
        },
        "/charge": {
            "post": {
                "operationId": "charge",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"note": {"type": "string"}, "mode": _MODE},
                                "required": ["note"],
                            }
                        }
                    },
                },
                "responses": {"200": {"description": "charged"}},
            }
        },
    },
}


def serve_grpc(port: int) -> None:
    """The seed's WeatherService; ``Location.name`` is ``mode:key`` (no idempotency level:
    a non-idempotent tool)."""
    import grpc
    from grpc_reflection.v1alpha import reflection

    from toolwire.examples.proto import weather_pb2, weather_pb2_grpc
    from toolwire.examples.weather_grpc import SERVICE_NAME

    class Faulty(weather_pb2_grpc.WeatherServiceServicer):  # type: ignore[misc]
        async def GetWeather(self, request: Any, context: Any) -> Any:
            mode, _, key = request.name.partition(":")
            _log("charge", key)
            if await _fault(mode):
                await context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
            return weather_pb2.WeatherData(temp=len(key), humidity=60)

    async def main() -> None:
        server = grpc.aio.server()
        weather_pb2_grpc.add_WeatherServiceServicer_to_server(Faulty(), server)
        reflection.enable_server_reflection((SERVICE_NAME, reflection.SERVICE_NAME), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(main())


def serve_mcp(port: int) -> None:
    import uvicorn
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations

    server = MCPServer("faulty", log_level="WARNING")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    async def lookup(key: str, mode: str = "ok") -> str:
        """Look a key up."""
        _log("lookup", key)
        if await _fault(mode):
            # a tool error (isError), not a crash: the SDK renders a traceback for a crash
            raise ToolError("try again")
        return key

    @server.tool(annotations=ToolAnnotations(destructiveHint=True, idempotentHint=False))
    async def charge(note: str, mode: str = "ok") -> str:
        """Charge once (not idempotent)."""
        _log("charge", note)
        if await _fault(mode):
            raise ToolError("try again")
        return note

    uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    {"http": serve_http, "grpc": serve_grpc, "mcp": serve_mcp}[sys.argv[1]](int(sys.argv[2]))
