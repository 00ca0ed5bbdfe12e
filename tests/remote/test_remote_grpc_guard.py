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
from toolwire.remote import _grpc_dial
from toolwire.remote import grpc as remote_grpc
from toolwire.remote._ssrf import Guard

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


async def _ping_server(
    address: str, answer: Any = _echo, methods: tuple[str, ...] = ("Ping",)
) -> tuple[Any, int]:
    """A reflecting ``twguard.Odd`` server on ``address`` whose ``methods`` all run ``answer``."""
    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(
        answer, request_deserializer=Ping.FromString, response_serializer=Ping.SerializeToString
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("twguard.Odd", dict.fromkeys(methods, handler)),)
    )
    reflection.enable_server_reflection(("twguard.Odd", reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(address)
    await server.start()
    return server, port


@pytest.fixture
async def odd_server() -> AsyncIterator[int]:
    server, port = await _ping_server("127.0.0.1:0", methods=("Ping", LONG))
    yield port
    await remote_grpc.close_channels()
    await server.stop(None)


class Dns:
    """Answers for made-up names, so a test decides where a name points (one address, or a
    list of them in the resolver's order)."""

    def __init__(self, answers: dict[str, str | list[str]]) -> None:
        self.answers = answers
        self.lookups = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            raise OSError(f"unknown host {host}")
        self.lookups += 1
        answer = self.answers[host]
        return [answer] if isinstance(answer, str) else list(answer)


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
    pool = _grpc_dial.POOLS.get(asyncio.get_running_loop())
    assert pool is None or not pool.live  # nothing was dialled


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
    checked = _grpc_dial.target(
        f"svc.test:{odd_server}",
        False,
        Guard(allow_hosts=("127.0.0.1",), resolver=Dns({"svc.test": "127.0.0.1"})),
    )
    assert await checked.dial() == f"ipv4:127.0.0.1:{odd_server}"
    assert ("grpc.default_authority", f"svc.test:{odd_server}") in checked.options()
    assert not any(k == "grpc.ssl_target_name_override" for k, _ in checked.options())
    secure = _grpc_dial.target("svc.test", True, Guard(resolver=Dns({"svc.test": "8.8.8.8"})))
    assert await secure.dial() == "ipv4:8.8.8.8:443"  # a public address: no allowlist needed
    assert ("grpc.ssl_target_name_override", "svc.test") in secure.options()  # TLS checks the name


def test_address_lists_name_every_checked_address() -> None:
    assert _grpc_dial.address_list(["8.8.8.8", "1.1.1.1", "8.8.8.8"], 50) == (
        "ipv4:8.8.8.8:50,1.1.1.1:50"
    )
    assert _grpc_dial.address_list(["2001:db8::1"], 50) == "ipv6:[2001:db8::1]:50"
    # both families: one ipv6: list, IPv4 as IPv4-mapped (gRPC dials those over IPv4)
    assert _grpc_dial.address_list(["2001:db8::1", "8.8.8.8"], 50) == (
        "ipv6:[2001:db8::1]:50,[::ffff:8.8.8.8]:50"
    )


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
    target = f"unix:{tmp_path / 'tw.sock'}"
    server, _ = await _ping_server(target)
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


async def _tagged_server(address: str, tag: str) -> tuple[Any, int]:
    """A server whose Ping answers ``tag:text``, so a test sees which address served it."""

    def answer(request: Any, context: Any) -> Any:
        return Ping(text=f"{tag}:{request.text}")

    return await _ping_server(address, answer)


@pytest.fixture
async def two_hosts() -> AsyncIterator[tuple[Any, Any, int]]:
    """Servers ``a`` on 127.0.0.1:P and ``b`` on 127.0.0.2:P (one port: the name's port)."""
    a, port = await _tagged_server("127.0.0.1:0", "a")
    b, _ = await _tagged_server(f"127.0.0.2:{port}", "b")
    yield a, b, port
    await remote_grpc.close_channels()
    await a.stop(None)
    await b.stop(None)


def _live(tool: Any) -> Any:
    pool = _grpc_dial.POOLS[asyncio.get_running_loop()]
    (live,) = pool.live.values()
    return live


@pytest.mark.anyio
async def test_every_address_is_checked_and_a_dead_one_is_skipped() -> None:
    server, port = await _tagged_server("127.0.0.1:0", "a")
    try:
        # 127.0.0.2:port refuses connections; the name's other address serves
        dns = Dns({"svc.test": ["127.0.0.2", "127.0.0.1"]})
        tools = await remote_grpc.load(
            f"svc.test:{port}", allow_hosts=["127.0.0.0/8"], resolver=dns, timeout_s=5
        )
        (tool,) = tools
        for i in range(3):
            assert await _ping(tool, str(i)) == {"text": f"a:{i}"}
        assert _live(tool).dial == f"ipv4:127.0.0.2:{port},127.0.0.1:{port}"
        # one forbidden address among allowed ones refuses the target (as for HTTP)
        with pytest.raises(ToolFailure) as info:
            await remote_grpc.load(
                f"svc.test:{port}",
                allow_hosts=["127.0.0.1"],
                resolver=Dns({"svc.test": ["127.0.0.1", "10.0.0.5"]}),
            )
        assert info.value.kind == "forbidden" and info.value.details["address"] == "10.0.0.5"
    finally:
        await remote_grpc.close_channels()
        await server.stop(None)


@pytest.mark.anyio
async def test_a_failed_channel_re_resolves_and_a_forbidden_move_is_refused(
    two_hosts: tuple[Any, Any, int],
) -> None:
    a, _, port = two_hosts
    dns = Dns({"svc.test": "127.0.0.1"})
    (tool,) = await remote_grpc.load(
        f"svc.test:{port}", allow_hosts=["127.0.0.0/8"], resolver=dns, timeout_s=5
    )
    assert await _ping(tool, "1") == {"text": "a:1"}
    dns.answers["svc.test"] = "127.0.0.2"
    assert await _ping(tool, "2") == {"text": "a:2"}  # a working channel is kept (within recheck_s)
    first = _live(tool)
    await a.stop(None)  # the server at the checked address goes away
    with pytest.raises(ToolFailure) as gone:
        await _ping(tool, "3")
    assert gone.value.kind == "remote_error" and gone.value.details["grpc_code"] == "UNAVAILABLE"
    assert _live(tool) is first and first.stale
    assert await _ping(tool, "4") == {"text": "b:4"}  # re-resolved, checked, new channel
    assert _live(tool) is not first and first.retired
    # the name moves to a forbidden address; the next failure makes the next call see it
    dns.answers["svc.test"] = "10.0.0.7"
    _live(tool).stale = True
    with pytest.raises(ToolFailure) as moved:
        await _ping(tool, "5")
    assert moved.value.kind == "forbidden" and moved.value.details["address"] == "10.0.0.7"
    assert not _grpc_dial.POOLS[asyncio.get_running_loop()].live  # the old channel is dropped
    dns.answers["svc.test"] = "127.0.0.2"
    assert await _ping(tool, "6") == {"text": "b:6"}


@pytest.mark.anyio
async def test_channels_past_recheck_s_are_resolved_and_checked_again(
    two_hosts: tuple[Any, Any, int],
) -> None:
    _, _, port = two_hosts
    dns = Dns({"svc.test": "127.0.0.1"})
    (tool,) = await remote_grpc.load(
        f"svc.test:{port}", allow_hosts=["127.0.0.0/8"], resolver=dns, recheck_s=0, timeout_s=5
    )
    assert await _ping(tool, "1") == {"text": "a:1"}
    kept = _live(tool)
    lookups = dns.lookups
    assert await _ping(tool, "2") == {"text": "a:2"}
    assert dns.lookups == lookups + 1 and _live(tool) is kept  # same addresses: same channel
    dns.answers["svc.test"] = "169.254.169.254"
    with pytest.raises(ToolFailure) as meta:
        await _ping(tool, "3")
    assert meta.value.kind == "forbidden" and meta.value.details["address"] == "169.254.169.254"
    dns.answers["svc.test"] = "127.0.0.2"  # moved to another allowed address: followed
    assert await _ping(tool, "4") == {"text": "b:4"}
    # a lookup that fails keeps a channel that works, and is tried again later
    del dns.answers["svc.test"]
    _live(tool).due = 0.0
    assert await _ping(tool, "5") == {"text": "b:5"}


@pytest.mark.anyio
async def test_a_replaced_channel_finishes_its_running_calls_first() -> None:
    gate = asyncio.Event()
    entered = asyncio.Event()

    async def slow(request: Any, context: Any) -> Any:
        if request.text == "slow":
            entered.set()
            await gate.wait()
        return Ping(text=f"a:{request.text}")

    a, port = await _ping_server("127.0.0.1:0", slow)
    b, _ = await _tagged_server(f"127.0.0.2:{port}", "b")
    try:
        dns = Dns({"svc.test": "127.0.0.1"})
        (tool,) = await remote_grpc.load(
            f"svc.test:{port}", allow_hosts=["127.0.0.0/8"], resolver=dns, timeout_s=5
        )
        running = asyncio.ensure_future(_ping(tool, "slow"))
        await entered.wait()
        old = _live(tool)
        dns.answers["svc.test"] = "127.0.0.2"
        old.due = 0.0  # due for a re-check: the next call moves to the new address
        assert await _ping(tool, "next") == {"text": "b:next"}
        assert old.retired and old.inflight == 1  # not closed under the running call
        gate.set()
        assert await running == {"text": "a:slow"}
        assert old.inflight == 0
    finally:
        await remote_grpc.close_channels()
        await a.stop(None)
        await b.stop(None)
