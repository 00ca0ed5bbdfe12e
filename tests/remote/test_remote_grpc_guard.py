"""gRPC reflection targets pass the SSRF guard before a channel opens; a method that cannot
become a tool is skipped, not fatal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection

from toolwire._context import Context
from toolwire._errors import ToolFailure
from toolwire.remote import grpc as remote_grpc

# A service built from a descriptor at run time (no protoc): one ordinary unary method, and
# one whose name is too long for a tool name (proto identifiers have no length limit).
_F = descriptor_pb2.FieldDescriptorProto
_FILE = descriptor_pb2.FileDescriptorProto(name="tw_guard_test.proto", package="twguard")
_FILE.syntax = "proto3"
_FILE.message_type.add(name="Ping").field.add(
    name="text", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL
)
_SERVICE = _FILE.service.add(name="Odd")
_SERVICE.method.add(name="Ping", input_type=".twguard.Ping", output_type=".twguard.Ping")
LONG = "Ping" + "X" * 260
_SERVICE.method.add(name=LONG, input_type=".twguard.Ping", output_type=".twguard.Ping")
descriptor_pool.Default().AddSerializedFile(_FILE.SerializeToString())
Ping = message_factory.GetMessageClass(
    descriptor_pool.Default().FindMessageTypeByName("twguard.Ping")
)


def _echo(request: Any, context: Any) -> Any:
    return request


@pytest.fixture
async def odd_server() -> AsyncIterator[int]:
    server = grpc.aio.server()
    echo = grpc.unary_unary_rpc_method_handler(
        _echo, request_deserializer=Ping.FromString, response_serializer=Ping.SerializeToString
    )
    handlers = dict.fromkeys(("Ping", LONG), echo)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("twguard.Odd", handlers),)
    )
    reflection.enable_server_reflection(("twguard.Odd", reflection.SERVICE_NAME), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port
    await remote_grpc.close_channels()
    await server.stop(None)


class Dns:
    """Answers for made-up names, so a test decides where a name points."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            raise OSError(f"unknown host {host}")
        return [self.answers[host]]


async def _ping(tool: Any, text: str) -> Any:
    ctx = Context(call_id="c", tool_name=tool.name)
    return await tool.require_handler()(**tool.bind(tool.validate({"text": text}), ctx))


REFUSED = [
    ("127.0.0.1:50051", "127.0.0.1"),
    ("[::1]:50051", "::1"),
    ("2130706433:50051", "127.0.0.1"),  # decimal
    ("0x7f.0.0.1:50051", "127.0.0.1"),  # hex
    ("0177.0.0.1:50051", "127.0.0.1"),  # octal
    ("127.1:50051", "127.0.0.1"),  # short form
    ("[::ffff:127.0.0.1]:50051", "::ffff:7f00:1"),  # IPv4-mapped
    ("10.0.0.8:50051", "10.0.0.8"),
    ("192.168.1.20:443", "192.168.1.20"),
    ("172.16.5.5:50051", "172.16.5.5"),
    ("100.64.0.9:50051", "100.64.0.9"),  # CGNAT
    ("169.254.169.254:80", "169.254.169.254"),  # cloud metadata
    ("[fe80::1]:50051", "fe80::1"),  # link-local
    ("metadata.google.internal:80", "metadata.google.internal"),
    ("dns:///internal.test:50051", "10.9.8.7"),  # a name that resolves to a private address
    ("loop.test", "127.0.0.1"),  # no port: 443, still checked
]


@pytest.mark.anyio
@pytest.mark.parametrize(("target", "address"), REFUSED)
async def test_forbidden_targets_are_refused_before_a_channel_opens(
    target: str, address: str
) -> None:
    dns = Dns({"internal.test": "10.9.8.7", "loop.test": "127.0.0.1"})
    with pytest.raises(ToolFailure) as info:
        await remote_grpc.load(target, resolver=dns, timeout_s=2)
    assert info.value.kind == "forbidden"
    assert info.value.details["address"] == address and address in info.value.message
    assert info.value.details["target"] == target and f"gRPC target {target}" in info.value.message
    assert not remote_grpc._CHANNELS.get(asyncio.get_running_loop())  # nothing was dialled


@pytest.mark.anyio
@pytest.mark.parametrize(
    "target", ["unix:/tmp/tw.sock", "unix:///tmp/tw.sock", "ipv4:1.2.3.4:5,6.7.8.9:5", "a/b:1"]
)
async def test_targets_the_guard_cannot_check_are_refused(target: str) -> None:
    with pytest.raises(ToolFailure) as info:
        await remote_grpc.load(target)
    assert info.value.kind == "forbidden" and "HOST:PORT" in info.value.message


@pytest.mark.anyio
async def test_allowlisted_targets_work_and_dial_the_checked_address(odd_server: int) -> None:
    port = odd_server
    with pytest.raises(ToolFailure) as info:
        await remote_grpc.load(f"127.0.0.1:{port}")
    assert info.value.kind == "forbidden"
    for target, allow in [
        (f"127.0.0.1:{port}", ["127.0.0.1"]),
        (f"127.0.0.1:{port}", ["127.0.0.0/8"]),
        (f"svc.test:{port}", ["127.0.0.1"]),  # the name resolves to an allowed address
        (f"svc.test:{port}", ["svc.test"]),  # the name itself is allowed
        (f"dns:///svc.test:{port}", ["*.test"]),
    ]:
        tools = await remote_grpc.load(
            target, allow_hosts=allow, resolver=Dns({"svc.test": "127.0.0.1"})
        )
        assert [t.name for t in tools] == ["Odd.Ping"], target
        assert await _ping(tools[0], target) == {"text": target}
    # a name that moved: the allowlisted address does not open a private one
    with pytest.raises(ToolFailure) as moved:
        await remote_grpc.load(
            f"svc.test:{port}", allow_hosts=["127.0.0.1"], resolver=Dns({"svc.test": "10.0.0.3"})
        )
    assert moved.value.kind == "forbidden" and moved.value.details["address"] == "10.0.0.3"


@pytest.mark.anyio
async def test_channel_dials_the_checked_address_not_the_name(odd_server: int) -> None:
    checked = await remote_grpc.check_target(
        f"svc.test:{odd_server}",
        False,
        remote_grpc.Guard(allow_hosts=("127.0.0.1",), resolver=Dns({"svc.test": "127.0.0.1"})),
    )
    assert checked.dial == f"127.0.0.1:{odd_server}"
    assert ("grpc.default_authority", f"svc.test:{odd_server}") in checked.options()
    assert not any(k == "grpc.ssl_target_name_override" for k, _ in checked.options())
    secure = await remote_grpc.check_target(
        "svc.test", True, remote_grpc.Guard(resolver=Dns({"svc.test": "8.8.8.8"}))
    )
    assert secure.dial == "8.8.8.8:443"  # a public address: no allowlist needed
    assert ("grpc.ssl_target_name_override", "svc.test") in secure.options()  # TLS checks the name


@pytest.mark.anyio
async def test_a_method_that_cannot_become_a_tool_is_skipped(
    odd_server: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="toolwire.remote"):
        found = await remote_grpc.discover(f"127.0.0.1:{odd_server}", allow_hosts=["127.0.0.1"])
    assert [t.name for t in found.tools] == ["Odd.Ping"]
    assert list(found.skipped) == [f"Odd.{LONG}"]
    assert "at most 256 chars" in found.skipped[f"Odd.{LONG}"]
    assert any(f"Odd.{LONG} skipped" in r.getMessage() for r in caplog.records)
    assert await _ping(found.tools[0], "still works") == {"text": "still works"}


@pytest.mark.anyio
async def test_a_unix_socket_target_is_dialled_only_when_listed_exactly(tmp_path: Any) -> None:
    server = grpc.aio.server()
    echo = grpc.unary_unary_rpc_method_handler(
        _echo, request_deserializer=Ping.FromString, response_serializer=Ping.SerializeToString
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("twguard.Odd", {"Ping": echo}),)
    )
    reflection.enable_server_reflection(("twguard.Odd", reflection.SERVICE_NAME), server)
    target = f"unix:{tmp_path / 'tw.sock'}"
    server.add_insecure_port(target)
    await server.start()
    try:
        with pytest.raises(ToolFailure) as info:
            await remote_grpc.load(target, allow_hosts=["127.0.0.1", "unix:/elsewhere.sock"])
        assert info.value.kind == "forbidden"
        tools = await remote_grpc.load(target, allow_hosts=[target], timeout_s=5)
        (tool,) = [t for t in tools if t.name.endswith("Ping")]
        assert (await _ping(tool, "over a socket")) == {"text": "over a socket"}
    finally:
        await remote_grpc.close_channels()
        await server.stop(None)
