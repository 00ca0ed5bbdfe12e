"""gRPC import through server reflection: the seed's WeatherService and a richer test proto."""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import jsonschema_rs
import pytest
from grpc_reflection.v1alpha import reflection

from toolwire._context import Caller, Context
from toolwire._errors import ToolFailure
from toolwire._tools import Tool
from toolwire.examples import weather_grpc
from toolwire.remote import grpc as remote_grpc

PROTOS = Path(__file__).parent / "protos"
LOCAL = ["127.0.0.1"]  # the SSRF guard refuses loopback unless the source allows it


@pytest.fixture(scope="module")
def rich() -> Iterator[tuple[ModuleType, ModuleType]]:
    from grpc_tools import protoc

    out = Path(__file__).parent.parent.parent / "test-output" / "rich_proto"
    out.mkdir(parents=True, exist_ok=True)
    include = str(Path(protoc.__file__).parent / "_proto")
    code = protoc.main(
        ["protoc", f"-I{PROTOS}", f"-I{include}", f"--python_out={out}",
         f"--grpc_python_out={out}", str(PROTOS / "rich.proto")]
    )  # fmt: skip
    assert code == 0
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("rich_pb2"), importlib.import_module("rich_pb2_grpc")
    finally:
        sys.path.remove(str(out))


@pytest.fixture
async def rich_server(rich: tuple[ModuleType, ModuleType]) -> AsyncIterator[tuple[str, list[Any]]]:
    pb2, pb2_grpc = rich
    from google.protobuf import empty_pb2

    seen: list[Any] = []

    class Rich(pb2_grpc.RichServicer):  # type: ignore[misc,name-defined]
        async def Echo(self, request: Any, context: Any) -> Any:
            seen.append(dict(context.invocation_metadata()))
            summary = f"{request.name}|{request.color}|{len(request.tags)}|{request.big}"
            return pb2.RichReply(summary=summary, echo=request)

        async def Put(self, request: Any, context: Any) -> Any:
            return request

        async def Fail(self, request: Any, context: Any) -> Any:
            await context.abort(getattr(grpc.StatusCode, request.code), f"asked for {request.code}")

        async def Slow(self, request: Any, context: Any) -> Any:
            await asyncio.sleep(5)
            return empty_pb2.Empty()

    server = grpc.aio.server()
    pb2_grpc.add_RichServicer_to_server(Rich(), server)
    names = (pb2.DESCRIPTOR.services_by_name["Rich"].full_name, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", seen
    await remote_grpc.close_channels()
    await server.stop(None)


async def _call(t: Tool, args: dict[str, Any], ctx: Context | None = None) -> Any:
    ctx = ctx or Context(call_id="c", tool_name=t.name)
    return await t.require_handler()(**t.bind(t.validate(args), ctx))


@pytest.mark.anyio
async def test_seed_weather_service_through_reflection() -> None:
    server, port = await weather_grpc.start()
    try:
        tools = await remote_grpc.load(f"127.0.0.1:{port}", allow_hosts=LOCAL)
        assert [t.name for t in tools] == ["WeatherService.GetWeather"]
        weather = tools[0]
        assert weather.spec.input_schema == {
            "type": "object",
            "properties": {"name": {"type": "string", "description": "Location.name"}},
            "additionalProperties": False,
        }
        assert await _call(weather, {"name": "北京"}) == {"temp": 25, "humidity": 60}
        with pytest.raises(ToolFailure) as info:
            await _call(weather, {"name": " "})
        assert info.value.kind == "execution_error"
        assert info.value.details["grpc_code"] == "INVALID_ARGUMENT"
        short = await remote_grpc.load(f"127.0.0.1:{port}", qualified=False, allow_hosts=LOCAL)
        assert short[0].name == "GetWeather"
    finally:
        await remote_grpc.close_channels()
        await server.stop(None)


@pytest.mark.anyio
async def test_rich_schema_from_descriptors(rich_server: tuple[str, list[Any]]) -> None:
    target, _ = rich_server
    found = await remote_grpc.discover(target, allow_hosts=LOCAL)
    tools = {t.name: t for t in found.tools}
    assert set(tools) == {"Rich.Echo", "Rich.Put", "Rich.Fail", "Rich.Slow"}
    assert set(found.skipped) == {"Rich.Watch", "Rich.Upload", "Rich.Chat"}
    assert "server-streaming" in found.skipped["Rich.Watch"]
    assert "bidirectional" in found.skipped["Rich.Chat"]
    echo = tools["Rich.Echo"].spec
    assert echo.annotations.read_only and echo.annotations.idempotent
    assert tools["Rich.Put"].spec.annotations.idempotent
    assert not tools["Rich.Put"].spec.annotations.read_only
    assert not tools["Rich.Fail"].spec.annotations.idempotent
    props = echo.input_schema["properties"]
    assert props["color"]["enum"] == ["COLOR_UNSPECIFIED", "RED", "GREEN"]
    assert props["color"]["description"] == "RichRequest.color"
    assert props["tags"]["items"] == {"type": "string"} and props["tags"]["type"] == "array"
    assert props["counts"]["additionalProperties"]["type"] == "integer"
    assert props["by_id"]["propertyNames"] == {"pattern": r"^-?\d+$"}
    assert props["inner"]["properties"]["values"]["items"]["type"] == "integer"
    assert props["inners"]["items"]["properties"]["label"]["type"] == "string"
    assert props["when"]["format"] == "date-time"
    assert props["extra"]["type"] == "object"
    assert props["maybe"]["type"] == "integer"
    assert props["big"]["maximum"] == 2**63 - 1
    assert props["blob"]["contentEncoding"] == "base64"
    assert props["tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/tw.test.Tree"}
    assert "text, number" in echo.input_schema["description"]
    jsonschema_rs.meta.validate(echo.input_schema)
    assert echo.output_schema is not None
    assert echo.output_schema["properties"]["summary"]["type"] == "string"


@pytest.mark.anyio
async def test_rich_call_round_trip(rich_server: tuple[str, list[Any]]) -> None:
    target, seen = rich_server
    tools = {
        t.name: t
        for t in await remote_grpc.load(target, metadata={"x-team": "blue"}, allow_hosts=LOCAL)
    }
    args = {
        "name": "n",
        "big": 2**40,
        "color": "GREEN",
        "tags": ["a", "b"],
        "counts": {"x": 1},
        "inner": {"label": "in", "values": [1, 2]},
        "when": "2024-05-01T12:00:00Z",
        "extra": {"k": [1, "two", None]},
        "maybe": 7,
        "text": "hello",
        "tree": {"label": "root", "children": [{"label": "leaf"}]},
        "by_id": {"3": {"label": "three"}},
    }
    out = await _call(tools["Rich.Echo"], args)
    assert out["summary"] == f"n|2|2|{2**40}"
    echo = out["echo"]
    assert echo["color"] == "GREEN" and echo["when"] == "2024-05-01T12:00:00Z"
    assert echo["extra"] == {"k": [1.0, "two", None]} and echo["maybe"] == 7
    assert echo["tree"]["children"][0]["label"] == "leaf"
    assert echo["by_id"] == {"3": {"label": "three", "values": []}}
    assert seen[-1]["x-team"] == "blue"
    with pytest.raises(Exception) as bad:
        await _call(tools["Rich.Echo"], {"nope": 1})
    assert "nope" in str(bad.value)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "kind"),
    [("UNAVAILABLE", "remote_error"), ("INVALID_ARGUMENT", "execution_error"),
     ("NOT_FOUND", "execution_error"), ("RESOURCE_EXHAUSTED", "rate_limited"),
     ("PERMISSION_DENIED", "remote_error"), ("UNAUTHENTICATED", "remote_error"),
     ("INTERNAL", "remote_error"), ("DEADLINE_EXCEEDED", "timeout")],
)  # fmt: skip
async def test_status_codes_map_to_kinds(
    rich_server: tuple[str, list[Any]], code: str, kind: str
) -> None:
    tools = {
        t.name: t
        for t in await remote_grpc.load(rich_server[0], include=["Rich.Fail"], allow_hosts=LOCAL)
    }
    assert list(tools) == ["Rich.Fail"]
    with pytest.raises(ToolFailure) as info:
        await _call(tools["Rich.Fail"], {"code": code})
    assert info.value.kind == kind and info.value.details["grpc_code"] == code


@pytest.mark.anyio
async def test_deadline_and_forwarded_credentials(rich_server: tuple[str, list[Any]]) -> None:
    target, seen = rich_server
    tools = {
        t.name: t
        for t in await remote_grpc.load(target, forward_caller_credentials=True, allow_hosts=LOCAL)
    }
    soon = Context(
        call_id="c",
        tool_name="Rich.Slow",
        deadline=time.monotonic() + 0.2,
        caller=Caller(id="u", credentials="tok"),
    )
    with pytest.raises(ToolFailure) as info:
        await _call(tools["Rich.Slow"], {}, soon)
    assert info.value.kind == "timeout"
    ctx = Context(call_id="c", tool_name="Rich.Echo", caller=Caller(id="u", credentials="tok"))
    await _call(tools["Rich.Echo"], {"name": "x"}, ctx)
    assert seen[-1]["authorization"] == "Bearer tok"
    with pytest.raises(ToolFailure) as anon:
        await _call(tools["Rich.Echo"], {"name": "x"})
    assert anon.value.kind == "unauthorized"


@pytest.mark.anyio
async def test_unreachable_target_is_a_remote_error() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    try:
        with pytest.raises(ToolFailure) as info:
            await remote_grpc.load(f"127.0.0.1:{port}", timeout_s=2, allow_hosts=LOCAL)
        assert info.value.kind in ("remote_error", "timeout")
    finally:
        await remote_grpc.close_channels()
