"""Regression tests for review findings on the runtime and the memory state backend."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
import rt_proc_tools as pt
from rt_fixtures import backend_fixture, redis_prefix_fixture  # noqa: F401

import toolwire as tw
from toolwire._errors import ToolFailure
from toolwire.runtime import Executor
from toolwire.runtime._process import ProcessPool
from toolwire.state import BreakerConfig, MemoryBackend, StateBackend

pytestmark = pytest.mark.anyio


def _transfer_tool() -> tuple[tw.Tool, list[str]]:
    ran: list[str] = []

    @tw.tool(idempotent=True)
    def transfer(to: str, amount: int) -> dict[str, str]:
        """Send money."""
        ran.append(to)
        return {"receipt": f"sent {amount} to {to}"}

    return transfer, ran


# -- 1. idempotency keys ---------------------------------------------------------------------


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


# -- 2. memory idempotency store -------------------------------------------------------------


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


# -- 3. a breaker forced before its first call ---------------------------------------------


@pytest.mark.parametrize("forced", [None, "closed", "disabled"])
async def test_breaker_forced_before_first_call_gets_the_tools_settings(
    forced: str | None,
) -> None:
    @tw.tool(policy=tw.Policy(breaker=tw.Breaker(window=2, min_calls=2, failure_rate=0.5)))
    def boom() -> str:
        """Fails."""
        raise RuntimeError("x")

    ex = Executor()
    box = tw.Toolbox([boom], runtime=ex)
    await ex.force_breaker("boom", forced)  # type: ignore[arg-type]
    if forced == "disabled":
        await ex.force_breaker("boom", None)
    for _ in range(3):
        r = await box.call("boom", {})
    assert await ex.breaker_state("boom") == "open"
    assert r.error is not None and r.error.kind == "circuit_open"


async def test_memory_breaker_follows_each_calls_settings() -> None:
    be = MemoryBackend()
    loose = BreakerConfig(window=10, min_calls=10, failure_rate=0.5)
    tight = BreakerConfig(window=2, min_calls=2, failure_rate=0.5)
    for _ in range(3):
        adm = await be.breaker_acquire("k", loose)
        await be.breaker_record("k", loose, adm.generation, "failure", False)
    assert await be.breaker_state("k") == "closed"
    adm = await be.breaker_acquire("k", tight)
    tr = await be.breaker_record("k", tight, adm.generation, "failure", False)
    assert tr.new == "open"


# -- 4. fail_open merges like the other parts ----------------------------------------------


def test_fail_open_from_the_executor_default_survives_a_tool_policy() -> None:
    @tw.tool(read_only=True, policy=tw.Policy(timeout=5))
    def t(x: int) -> int:
        """T."""
        return x

    ex = Executor(default_policy=tw.Policy(fail_open=False))
    assert ex.policy_for(t).fail_open is False
    assert Executor().policy_for(t).fail_open is None  # unset: means open
    assert tw.Policy(fail_open=False).merged(tw.Policy(fail_open=True)).fail_open is True
    assert tw.Policy(fail_open=False).merged(tw.Policy()).fail_open is False


# -- 5. invalidate builds the key the executor stored --------------------------------------


@pytest.mark.parametrize("per_caller", [False, True])
async def test_invalidate_uses_the_tools_per_caller_and_validated_arguments(
    backend: StateBackend, per_caller: bool
) -> None:
    calls = [0]

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(ttl=60, per_caller=per_caller)))
    def g(x: int, y: int = 3) -> int:
        """G."""
        calls[0] += 1
        return calls[0]

    ex = Executor(backend=backend)
    box = tw.Toolbox([g], runtime=ex)
    who = tw.Caller(id="alice")
    await box.call("g", {"x": 1}, caller=who)
    assert await ex.invalidate(g, {"x": 1}, caller=who) == 1
    await box.call("g", {"x": 1}, caller=who)
    assert await ex.invalidate("g", '{"x": 1}', caller=who) == 1
    assert calls[0] == 2


# -- 6. process workers ----------------------------------------------------------------------


async def test_worker_whose_send_failed_is_replaced() -> None:
    pool = ProcessPool(1)
    try:
        first = await pool.run(pt.whoami.handler, {"x": 1}, None, (), 30.0)
        pid = first["pid"]
        os.kill(pid, signal.SIGKILL)
        (worker,) = pool._all
        await asyncio.to_thread(worker.proc.join, 10.0)
        with pytest.raises(ToolFailure) as info:
            await pool.run(pt.whoami.handler, {"x": 2}, None, (), 30.0)
        assert "died" in info.value.message
        again = await pool.run(pt.whoami.handler, {"x": 3}, None, (), 30.0)
        assert again["x"] == 3 and again["pid"] != pid
    finally:
        await pool.aclose()
