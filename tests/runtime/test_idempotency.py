"""Idempotency keys: scoped per caller, bound to their arguments; the memory store of their
records is bounded and never evicts a call in flight."""

from __future__ import annotations

import asyncio

import pytest
from runtime_fixtures import backend_fixture, redis_prefix_fixture  # noqa: F401

import toolwire as tw
from toolwire._errors import ToolFailure
from toolwire.runtime import Executor
from toolwire.state import MemoryBackend, StateBackend

pytestmark = pytest.mark.anyio


def _transfer_tool() -> tuple[tw.Tool, list[str]]:
    ran: list[str] = []

    @tw.tool(idempotent=True)
    def transfer(to: str, amount: int) -> dict[str, str]:
        """Send money."""
        ran.append(to)
        return {"receipt": f"sent {amount} to {to}"}

    return transfer, ran


async def test_idempotency_keys_never_collide_across_callers(backend: StateBackend) -> None:
    transfer, ran = _transfer_tool()
    ex = Executor(backend=backend)
    box = tw.Toolbox([transfer], runtime=ex)
    victim, attacker = tw.Caller(id="acme:alice"), tw.Caller(id="acme")
    first = await box.call(
        "transfer", {"to": "bob", "amount": 900}, caller=victim, idempotency_key="k1"
    )
    assert first.ok and not first.cached
    r = await box.call(
        "transfer", {"to": "bob", "amount": 900}, caller=attacker, idempotency_key="alice:k1"
    )
    assert r.ok and not r.cached  # its own call, run for it: not the victim's stored result
    assert ran == ["bob", "bob"]
    # the victim's own retry is still deduplicated
    again = await box.call(
        "transfer", {"to": "bob", "amount": 900}, caller=victim, idempotency_key="k1"
    )
    assert again.cached and again.value == first.value and len(ran) == 2


async def test_idempotency_key_reused_with_other_arguments_is_refused(
    backend: StateBackend,
) -> None:
    transfer, ran = _transfer_tool()
    ex = Executor(backend=backend)
    box = tw.Toolbox([transfer], runtime=ex)
    who = tw.Caller(id="alice")
    ok = await box.call("transfer", {"to": "bob", "amount": 5}, caller=who, idempotency_key="k")
    assert ok.ok
    bad = await box.call("transfer", {"to": "eve", "amount": 5}, caller=who, idempotency_key="k")
    assert not bad.ok and bad.error is not None
    assert bad.error.kind == "invalid_arguments"
    assert "different arguments" in bad.error.message
    assert bad.error.details["reason"] == "idempotency_key_reused"  # serve answers 409
    assert not bad.cached and ran == ["bob"]
    # same arguments (in another key order) still get the stored result
    same = await box.call("transfer", '{"amount": 5, "to": "bob"}', caller=who, idempotency_key="k")
    assert same.ok and same.cached and same.value == ok.value


async def test_concurrent_duplicates_with_other_arguments_do_not_share_a_flight() -> None:
    gate = asyncio.Event()

    @tw.tool(idempotent=True)
    async def slow(x: int) -> int:
        """Waits."""
        await gate.wait()
        return x

    box = tw.Toolbox([slow], runtime=Executor())
    first = asyncio.ensure_future(box.call("slow", {"x": 1}, idempotency_key="k"))
    second = asyncio.ensure_future(box.call("slow", {"x": 2}, idempotency_key="k"))
    await asyncio.sleep(0.01)
    gate.set()
    a, b = await asyncio.gather(first, second)
    assert a.ok and a.value == 1
    assert b.error is not None and b.error.kind == "invalid_arguments"


async def test_memory_idempotency_store_is_bounded_and_linear() -> None:
    be = MemoryBackend(max_idempotency_records=1_000)
    for i in range(50_000):
        rec = await be.idem_begin(f"k{i}", "o", 86_400)
        assert rec.status == "new"
        await be.idem_finish(f"k{i}", "o", b"{}", 86_400)
        assert len(be._idem_done) + len(be._idem_pending) <= 1_000
    # the newest records survive, the oldest finished ones were evicted
    assert (await be.idem_begin("k49999", "o", 60)).status == "done"
    assert (await be.idem_begin("k0", "o", 60)).status == "new"


async def test_memory_idempotency_store_never_evicts_in_flight_claims() -> None:
    be = MemoryBackend(max_idempotency_records=3)
    for i in range(3):
        assert (await be.idem_begin(f"p{i}", "o", 60)).status == "new"
    with pytest.raises(ToolFailure) as info:
        await be.idem_begin("p3", "o", 60)
    assert info.value.kind == "rate_limited"
    for i in range(3):
        assert (await be.idem_begin(f"p{i}", "other", 60)).status == "pending"


async def test_memory_idempotency_expired_records_are_dropped() -> None:
    now = [0.0]
    be = MemoryBackend(clock=lambda: now[0])
    for i in range(100):
        await be.idem_begin(f"k{i}", "o", 10)
        await be.idem_finish(f"k{i}", "o", b"{}", 10)
    now[0] = 11.0
    await be.idem_begin("fresh", "o", 10)
    assert len(be._idem_done) == 0 and list(be._idem_pending) == ["fresh"]


async def test_idem_finish_checks_the_owner(backend: StateBackend) -> None:
    be = backend
    assert (await be.idem_begin("k", "a", 60)).status == "new"
    await be.idem_finish("k", "intruder", b"forged", 60)
    assert (await be.idem_begin("k", "b", 60)).status == "pending"
    await be.idem_finish("k", "a", b"real", 60)
    rec = await be.idem_begin("k", "b", 60)
    assert (rec.status, rec.data) == ("done", b"real")
    await be.idem_finish("k", "intruder", b"forged", 60)  # a finished record stays
    assert (await be.idem_begin("k", "b", 60)).data == b"real"


async def test_executor_reports_a_full_idempotency_store_as_a_result() -> None:
    gate = asyncio.Event()

    @tw.tool(idempotent=True)
    async def wait(x: int) -> int:
        """Waits."""
        await gate.wait()
        return x

    box = tw.Toolbox([wait], runtime=Executor(backend=MemoryBackend(max_idempotency_records=1)))
    first = asyncio.ensure_future(box.call("wait", {"x": 1}, idempotency_key="a"))
    await asyncio.sleep(0.01)
    second = await box.call("wait", {"x": 2}, idempotency_key="b")
    assert second.error is not None and second.error.kind == "rate_limited"
    gate.set()
    assert (await first).ok
