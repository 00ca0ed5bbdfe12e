"""The same tool over REST, gRPC and MCP (streamable HTTP and stdio) against a real
``toolwire serve`` process: the same results, the same error kinds, the same auth."""

from __future__ import annotations

import inspect
import json
import os
import sys
from typing import Any

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from serve_helpers import ADMIN_KEY, HERE, KEY, SECRET, Server, token

from toolwire._toolbox import Toolbox
from toolwire.serve.grpc_client import GrpcToolClient

pytestmark = pytest.mark.anyio


async def rest(
    server: Server, name: str, args: Any, **headers: str
) -> tuple[int, dict[str, Any], Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{server.base}/v1/tools/{name}/call",
            data=args if isinstance(args, (str, bytes)) else json.dumps(args),
            headers={"Content-Type": "application/json", **headers},
        ) as resp,
    ):
        return resp.status, await resp.json(), resp.headers


def mcp_client(server: Server, headers: dict[str, str]) -> Client:
    http = create_mcp_http_client(headers=headers)
    return Client(streamable_http_client(f"{server.base}/mcp", http_client=http))


async def mcp_call(server: Server, name: str, args: dict[str, Any], headers: dict[str, str]) -> Any:
    async with mcp_client(server, headers) as client:
        return await client.call_tool(name, args)


def mcp_outcome(result: Any) -> tuple[bool, Any]:
    """(ok, value or error kind) of an MCP CallToolResult."""
    if result.is_error:  # the error is the text content, as JSON (no structured content)
        return False, json.loads(result.content[0].text)["error"]["kind"]
    return True, result.structured_content


CASES = [
    ("get_weather", {"location": "北京"}, True, {"location": "北京", "temp": 25, "humidity": 60}),
    ("get_weather", {"location": 7}, False, "invalid_arguments"),
    ("get_weather", {}, False, "invalid_arguments"),
    ("no_such_tool", {}, False, "unknown_tool"),
    ("admin_only", {}, False, "forbidden"),
    ("fail", {"kind": "remote_error"}, False, "remote_error"),
    ("fail", {"kind": "crash"}, False, "execution_error"),
    ("fail", {"kind": ""}, False, "execution_error"),
    ("get_weather", {"location": "x" * 5000}, False, "too_large"),
    ("get_weather", {"location": "x", "n": [[[[[[[[[1]]]]]]]]]}, False, "too_large"),
]


@pytest.mark.parametrize(("name", "args", "ok", "expected"), CASES)
async def test_same_outcome_on_every_transport(
    server: Server, name: str, args: dict[str, Any], ok: bool, expected: Any
) -> None:
    status, body, _ = await rest(server, name, args, **{"X-API-Key": KEY})
    assert body["ok"] is ok
    if ok:
        assert status == 200
        assert body["value"] == expected
    else:
        assert body["error"]["kind"] == expected
        assert (
            status
            == {
                "invalid_arguments": 400,
                "unknown_tool": 404,
                "forbidden": 403,
                "remote_error": 502,
                "execution_error": 500,
                "too_large": 413,
            }[expected]
        )

    async with GrpcToolClient(server.grpc, api_key=KEY) as client:
        result = await client.call(name, args)
    assert result.ok is ok
    assert (result.value if ok else result.error and result.error.kind) == expected

    outcome = mcp_outcome(await mcp_call(server, name, args, {"X-API-Key": KEY}))
    assert outcome == (ok, expected)


async def test_grpc_status_codes_and_trailers(server: Server) -> None:
    from toolwire.serve._gen import tools_pb2, tools_pb2_grpc

    async with grpc.aio.insecure_channel(server.grpc) as channel:
        stub = tools_pb2_grpc.ToolServiceStub(channel)
        md = (("x-api-key", KEY),)
        ok = await stub.CallTool(
            tools_pb2.CallToolRequest(name="get_weather", arguments_json='{"location": "Paris"}'),
            metadata=md,
        )
        assert json.loads(ok.value_json)["temp"] == 25
        expected = {
            "no_such_tool": grpc.StatusCode.NOT_FOUND,
            "admin_only": grpc.StatusCode.PERMISSION_DENIED,
        }
        for name, code in expected.items():
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.CallTool(tools_pb2.CallToolRequest(name=name), metadata=md)
            assert info.value.code() == code
            trailers = dict(info.value.trailing_metadata() or ())
            assert json.loads(trailers["toolwire-error"])["kind"] in ("unknown_tool", "forbidden")
        # The caller's deadline is the call's deadline.
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CallTool(
                tools_pb2.CallToolRequest(name="slow", arguments_json='{"seconds": 5}'),
                metadata=md,
                timeout=0.3,
            )
        assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        listed = await stub.ListTools(tools_pb2.ListToolsRequest(dialect="anthropic"), metadata=md)
        assert {t.name for t in listed.tools} >= {"get_weather", "fail", "slow"}
        assert any(t["name"] == "get_weather" for t in json.loads(listed.export_json))


async def test_grpc_stream_answers_every_call(server: Server) -> None:
    calls = [("get_weather", {"location": f"c{i}"}) for i in range(5)] + [("nope", {})]
    async with GrpcToolClient(server.grpc, token=token()) as client:
        results = [r async for r in client.call_many(calls)]
    assert sorted(r.call_id for r in results) == [f"c{i}" for i in range(6)]
    by_id = {r.call_id: r for r in results}
    assert by_id["c3"].value["location"] == "c3"
    assert not by_id["c5"].ok
    assert by_id["c5"].error is not None and by_id["c5"].error.kind == "unknown_tool"


async def test_grpc_reflection_and_health(server: Server) -> None:
    async with grpc.aio.insecure_channel(server.grpc) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def requests() -> Any:
            yield reflection_pb2.ServerReflectionRequest(list_services="")
            yield reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="toolwire.v1.ToolService"
            )

        answers = [a async for a in stub.ServerReflectionInfo(requests())]
        names = {s.name for s in answers[0].list_services_response.service}
        assert "toolwire.v1.ToolService" in names
        assert "grpc.health.v1.Health" in names
        assert answers[1].file_descriptor_response.file_descriptor_proto
        health = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service="toolwire.v1.ToolService"))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


BAD_CREDENTIALS = {
    "missing": {},
    "bad key": {"X-API-Key": "tw_wrong"},
    "expired token": {"Authorization": f"Bearer {token(exp=-120)}"},
    "tampered token": {"Authorization": f"Bearer {token()[:-3]}abc"},
    "wrong secret": {"Authorization": f"Bearer {token(secret='x' * 40)}"},
    "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
}


@pytest.mark.parametrize("case", sorted(BAD_CREDENTIALS))
async def test_bad_credentials_refused_everywhere(server: Server, case: str) -> None:
    headers = BAD_CREDENTIALS[case]
    status, body, resp_headers = await rest(server, "get_weather", {"location": "x"}, **headers)
    assert status == 401
    assert body["error"]["kind"] == "unauthorized"
    assert "Bearer" in resp_headers["WWW-Authenticate"]

    metadata = tuple((k.lower(), v) for k, v in headers.items())
    async with grpc.aio.insecure_channel(server.grpc) as channel:
        from toolwire.serve._gen import tools_pb2, tools_pb2_grpc

        stub = tools_pb2_grpc.ToolServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CallTool(tools_pb2.CallToolRequest(name="get_weather"), metadata=metadata)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED

    # The SDK client reports any HTTP failure as a generic error; the wire shows the 401.
    with pytest.raises(Exception):  # noqa: B017
        await mcp_call(server, "get_weather", {"location": "x"}, headers)
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{server.base}/mcp",
            json=initialize,
            headers={"Accept": "application/json, text/event-stream", **headers},
        ) as r,
    ):
        assert r.status == 401
        assert (await r.json())["error"]["kind"] == "unauthorized"


async def test_scopes_and_identity_reach_the_tool(server: Server) -> None:
    status, body, _ = await rest(server, "admin_only", {}, **{"X-API-Key": ADMIN_KEY})
    assert (status, body["value"]) == (200, "done")
    jwt_admin = {"Authorization": f"Bearer {token('boss', scope='admin weather')}"}
    status, body, _ = await rest(server, "admin_only", {}, **jwt_admin)
    assert status == 200
    _, body, _ = await rest(server, "whoami", {}, **jwt_admin)
    assert body["value"] == "jwt:boss"
    async with GrpcToolClient(server.grpc, api_key=KEY) as client:
        assert (await client.call("whoami", {})).value == "key:user"
    result = await mcp_call(server, "whoami", {}, {"X-API-Key": ADMIN_KEY})
    assert result.content[0].text == "key:admin"


async def test_rest_routes(server: Server) -> None:
    auth = {"X-API-Key": KEY}
    async with aiohttp.ClientSession(base_url=server.base) as s:
        async with s.get("/healthz") as r:
            assert r.status == 200
        async with s.get("/readyz") as r:
            assert r.status == 200
        async with s.get("/v1/tools") as r:
            assert r.status == 401
        async with s.get("/v1/tools", headers=auth) as r:
            names = {t["name"] for t in (await r.json())["tools"]}
            # the key lacks the admin scope: admin_only is not listed for it
            assert {"get_weather", "fail", "slow", "whoami"} <= names
            assert "admin_only" not in names
        for dialect in ("openai", "anthropic", "gemini", "mcp", "openai-functions"):
            async with s.get("/v1/tools", params={"dialect": dialect}, headers=auth) as r:
                assert r.status == 200, dialect
                assert "get_weather" in await r.text()
        async with s.get("/v1/tools", params={"dialect": "klingon"}, headers=auth) as r:
            assert r.status == 400
        async with s.get("/v1/tools/get_weather", headers=auth) as r:
            assert (await r.json())["annotations"]["read_only"] is True
        async with s.get("/v1/tools/nope", headers=auth) as r:
            assert r.status == 404
        batch = {
            "calls": [
                {"name": "get_weather", "arguments": {"location": f"L{i}"}, "id": str(i)}
                for i in range(4)
            ]
        }
        batch["calls"].append({"name": "get_weather", "arguments": '{"location": 1}'})
        async with s.post("/v1/calls", json=batch, headers=auth) as r:
            results = (await r.json())["results"]
        assert [x["ok"] for x in results] == [True, True, True, True, False]
        assert results[2]["value"]["location"] == "L2" and results[2]["call_id"] == "2"
        assert results[4]["error"]["kind"] == "invalid_arguments"
        too_many = {"calls": [{"name": "get_weather", "arguments": {"location": "x"}}] * 6}
        async with s.post("/v1/calls", json=too_many, headers=auth) as r:
            assert r.status == 413
        raw = {**auth, "Content-Type": "application/json"}
        async with s.post("/v1/calls", data=b"{not json", headers=raw) as r:
            assert r.status == 400
        async with s.post("/v1/tools/get_weather/call", data=b"x" * 70000, headers=raw) as r:
            assert r.status == 413
            assert (await r.json())["error"]["kind"] == "too_large"
        async with s.post("/v1/tools/get_weather/call", data=b"[1, 2]", headers=raw) as r:
            assert r.status == 400
        async with s.post("/v1/tools/get_weather/call", data=b"{broken", headers=raw) as r:
            assert r.status == 400
        async with s.post("/v1/tools/get_weather/call", data=b"{}", headers=auth) as r:
            assert r.status == 415  # aiohttp declares bytes as application/octet-stream
            assert (await r.json())["error"]["kind"] == "invalid_arguments"
        async with s.post("/v1/tools/fail/call", json={"kind": "rate_limited"}, headers=auth) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1"
        async with s.post("/v1/tools/fail/call", json={"kind": "circuit_open"}, headers=auth) as r:
            assert r.status == 503 and "Retry-After" in r.headers
        async with s.get("/metrics") as r:
            assert r.status == 401  # auth is on: tool names stay private
        async with s.get("/metrics", headers=auth) as r:
            assert r.status == 403  # the key lacks the ops scope: every tool is named there
        async with s.get("/metrics", headers={"X-API-Key": ADMIN_KEY}) as r:
            text = await r.text()
            assert (
                'toolwire_serve_calls_total{outcome="ok",tool="get_weather",transport="rest"}'
                in text
            )
        async with s.get("/openapi.json") as r:
            assert r.status == 401  # auth is on: tool names stay private
        async with s.get("/openapi.json", headers=auth) as r:
            doc = await r.json()
        assert "/v1/tools/get_weather/call" in doc["paths"]
        assert "/v1/calls" in doc["paths"]
        op = doc["paths"]["/v1/tools/get_weather/call"]["post"]
        assert {"400", "401", "403", "404", "413", "429", "503", "504", "502"} <= set(
            op["responses"]
        )


async def test_mcp_lists_tools_with_annotations(server: Server) -> None:
    async with mcp_client(server, {"X-API-Key": KEY}) as client:
        listed = await client.list_tools()
    by_name = {t.name: t for t in listed.tools}
    weather = by_name["get_weather"]
    assert weather.annotations is not None and weather.annotations.read_only_hint is True
    assert weather.output_schema is not None
    assert weather.input_schema["required"] == ["location"]


@pytest.mark.slow
async def test_mcp_over_stdio() -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from toolwire.cli import main; main()",
            "serve",
            "--mcp-stdio",
            "--tools",
            str(HERE / "serve_tools.py"),
        ],
        env={**os.environ, "TW_TEST_JWT_SECRET": SECRET},
    )
    async with Client(params) as client:
        ok = await client.call_tool("get_weather", {"location": "上海"})
        bad = await client.call_tool("get_weather", {"location": 3})
        missing = await client.call_tool("nope", {})
    assert mcp_outcome(ok) == (True, {"location": "上海", "temp": 25, "humidity": 60})
    assert mcp_outcome(bad) == (False, "invalid_arguments")
    assert mcp_outcome(missing) == (False, "unknown_tool")


async def test_mcp_progress_reaches_the_client(server: Server) -> None:
    if "progress" not in inspect.signature(Toolbox.call).parameters:
        pytest.skip("Toolbox.call takes no progress callback yet: progress is not forwarded")
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async with mcp_client(server, {"X-API-Key": KEY}) as client:
        result = await client.call_tool(
            "get_weather", {"location": "广州"}, progress_callback=on_progress
        )
    assert mcp_outcome(result)[0] is True
    assert seen == [(1, 1, "weather for 广州")]
