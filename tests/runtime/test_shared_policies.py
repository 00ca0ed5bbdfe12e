"""Breaker, idempotency and cache through the executor, on memory and on a real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from runtime_fixtures import backend_fixture, redis_prefix_fixture  # noqa: F401

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state import StateBackend

pytestmark = pytest.mark.anyio


# long enough that a loaded machine cannot let the open period lapse mid-step
OPEN_FOR = 0.6


class Upstream:
    """A controllable dependency: counts the calls that reach it."""

    def __init__(self) -> None:
        self.fail = True
        self.hits = 0
        self.delay = 0.0
        # When set, calls wait on it: a trial call is held until every other call was decided,
        # so "exactly one trial" does not depend on how fast a loaded machine is.
        self.gate: asyncio.Event | None = None


def breaker_box(backend: StateBackend, up: Upstream, **extra: Any) -> tw.Toolbox:
    breaker = tw.Breaker(window=4, min_calls=4, failure_rate=0.5, open_for=OPEN_FOR, **extra)

    @tw.tool(read_only=True, policy=tw.Policy(breaker=breaker))
    async def upstream(q: str) -> str:
        up.hits += 1
        await asyncio.sleep(up.delay)
        if up.gate is not None:
            await up.gate.wait()
        if up.fail:
            raise tw.ToolFailure("remote_error", "upstream is down")
        return q

    @tw.tool(read_only=True)
    def backup(q: str) -> str:
        return "backup:" + q

    return tw.Toolbox([upstream, backup], runtime=Executor(backend=backend))


def q(n: int) -> list[tw.ToolCall]:
    return [tw.ToolCall(id=str(i), name="upstream", arguments='{"q": "x"}') for i in range(n)]


async def _open_it(box: tw.Toolbox, up: Upstream) -> None:
    for i in range(4):
        res = await box.call("upstream", {"q": str(i)})
        assert res.error is not None
        assert res.error.kind == "remote_error"
    assert up.hits == 4
    res = await box.call("upstream", {"q": "rejected"})
    assert res.error is not None
    assert res.error.kind == "circuit_open"
    assert res.error.retry_after is not None
    assert up.hits == 4  # rejected at once, the upstream never saw it


async def _fifty_with_the_trial_held(box: tw.Toolbox, up: Upstream) -> list[tw.ToolResult]:
    """50 concurrent calls on a half-open breaker; the trial finishes only after the other 49
    were answered. A breaker that admitted a second trial would leave fewer than 49 answers
    and the gate shut: the wait times out and the test fails."""
    up.gate = asyncio.Event()
    results: list[tw.ToolResult] = []

    async def collect() -> None:
        async for result in box.run_iter(q(50)):
            results.append(result)
            if len(results) == 49:
                assert up.gate is not None
                up.gate.set()

    await asyncio.wait_for(collect(), timeout=30)
    up.gate = None
    return results


async def test_breaker_half_open_admits_exactly_one_of_50(backend: StateBackend) -> None:
    up = Upstream()
    box = breaker_box(backend, up)
    await _open_it(box, up)
    await asyncio.sleep(OPEN_FOR + 0.05)
    up.fail = False
    results = await _fifty_with_the_trial_held(box, up)
    assert up.hits == 5  # exactly one trial reached the tool
    kinds = sorted(r.error.kind if r.error else "ok" for r in results)
    assert kinds == ["circuit_open"] * 49 + ["ok"]
    assert await box.runtime.breaker_state("upstream") == "closed"
    assert all(r.ok for r in await box.run(q(10)))


async def test_breaker_failed_trial_reopens(backend: StateBackend) -> None:
    up = Upstream()
    box = breaker_box(backend, up)
    await _open_it(box, up)
    await asyncio.sleep(OPEN_FOR + 0.05)
    results = await _fifty_with_the_trial_held(box, up)
    assert up.hits == 5
    assert sum(1 for r in results if r.error and r.error.kind == "remote_error") == 1
    assert await box.runtime.breaker_state("upstream") == "open"
    res = await box.call("upstream", {"q": "again"})
    assert res.error is not None
    assert res.error.kind == "circuit_open"


async def test_breaker_fallbacks(backend: StateBackend) -> None:
    up = Upstream()
    box = breaker_box(backend, up, fallback=tw.FallbackTool("backup"))
    await _open_it_with_fallback(box, up)
    res = await box.call("upstream", {"q": "hi"})
    assert res.ok
    assert res.value == "backup:hi"
    assert res.name == "upstream"
    valued = breaker_box(backend, Upstream(), fallback={"stale": True}, key="other-upstream")
    for i in range(4):
        await valued.call("upstream", {"q": str(i)})
    res = await valued.call("upstream", {"q": "x"})
    assert res.ok
    assert res.value == {"stale": True}


async def _open_it_with_fallback(box: tw.Toolbox, up: Upstream) -> None:
    for i in range(4):
        await box.call("upstream", {"q": str(i)})
    assert await box.runtime.breaker_state("upstream") == "open"


async def test_forced_states(backend: StateBackend) -> None:
    up = Upstream()
    up.fail = False
    box = breaker_box(backend, up)
    await box.runtime.force_breaker("upstream", "forced_open")
    res = await box.call("upstream", {"q": "x"})
    assert res.error is not None
    assert res.error.kind == "circuit_open"
    await box.runtime.force_breaker("upstream", None)
    assert (await box.call("upstream", {"q": "x"})).ok


async def test_idempotency_key_dedupes_concurrent_duplicates(backend: StateBackend) -> None:
    runs = 0

    @tw.tool
    async def charge(amount: int) -> dict[str, int]:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.05)
        return {"charged": amount, "run": runs}

    box = tw.Toolbox([charge], runtime=Executor(backend=backend))
    results = await asyncio.gather(
        *(box.call("charge", {"amount": 5}, idempotency_key="order-1") for _ in range(20))
    )
    assert runs == 1
    assert all(r.ok for r in results)
    assert len({repr(r.value) for r in results}) == 1
    later = await box.call("charge", {"amount": 5}, idempotency_key="order-1")
    assert later.value == {"charged": 5, "run": 1}
    assert later.cached
    other = await box.call("charge", {"amount": 5}, idempotency_key="order-2")
    assert other.value == {"charged": 5, "run": 2}


async def test_idempotent_failure_is_stored_too(backend: StateBackend) -> None:
    runs = 0

    @tw.tool
    def pay() -> None:
        nonlocal runs
        runs += 1
        raise tw.ToolFailure("remote_error", "bank said no")

    box = tw.Toolbox([pay], runtime=Executor(backend=backend))
    first = await box.call("pay", idempotency_key="p1")
    second = await box.call("pay", idempotency_key="p1")
    assert runs == 1
    assert first.error == second.error


async def test_cache_stampede_runs_once(backend: StateBackend) -> None:
    runs = 0

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(ttl=30)))
    async def lookup(city: str, units: str = "c") -> dict[str, Any]:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.05)
        return {"city": city, "temp": 21, "units": units}

    box = tw.Toolbox([lookup], runtime=Executor(backend=backend))
    batch = [
        tw.ToolCall(id=str(i), name="lookup", arguments='{"units": "c", "city": "Oslo"}')
        for i in range(100)
    ]
    results = await box.run(batch)
    assert runs == 1
    assert all(r.value == {"city": "Oslo", "temp": 21, "units": "c"} for r in results)
    assert sum(not r.cached for r in results) == 1
    # the same validated arguments in another key order: a hit
    again = await box.call("lookup", '{"city": "Oslo", "units": "c"}')
    assert again.cached
    assert runs == 1
    oslo = {"city": "Oslo", "units": "c"}
    assert await box.runtime.invalidate(box.get("lookup"), oslo) == 1
    assert not (await box.call("lookup", oslo)).cached
    assert runs == 2
    assert (await box.call("lookup", oslo)).cached
    await box.runtime.invalidate("lookup")
    assert not (await box.call("lookup", oslo)).cached


async def test_cache_keeps_only_successes_and_scopes_per_caller(backend: StateBackend) -> None:
    runs = 0

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(per_caller=True)))
    def mine(ctx: tw.Context) -> str:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("first one fails")
        return ctx.caller.id if ctx.caller else "-"

    box = tw.Toolbox([mine], runtime=Executor(backend=backend))
    alice, bob = tw.Caller(id="alice"), tw.Caller(id="bob")
    assert not (await box.call("mine", caller=alice)).ok
    assert (await box.call("mine", caller=alice)).value == "alice"
    hit = await box.call("mine", caller=alice)
    assert (hit.value, hit.cached) == ("alice", True)
    assert (await box.call("mine", caller=bob)).value == "bob"
    assert runs == 3


async def test_a_cached_tool_that_reads_the_caller_is_cached_per_caller(
    backend: StateBackend,
) -> None:
    # Issue 13: Bob received Alice's account from the cache of a tool reading ctx.caller
    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache()))
    def account(ctx: tw.Context) -> str:
        return f"account of {ctx.caller.id if ctx.caller else '-'}"

    box = tw.Toolbox([account], runtime=Executor(backend=backend))
    alice, bob = tw.Caller(id="alice"), tw.Caller(id="bob")
    assert (await box.call("account", caller=alice)).value == "account of alice"
    bobs = await box.call("account", caller=bob)
    assert (bobs.value, bobs.cached) == ("account of bob", False)
    again = await box.call("account", caller=alice)
    assert (again.value, again.cached) == ("account of alice", True)
    # invalidating one caller's entry leaves the other's
    assert await box.runtime.invalidate("account", {}, caller=alice) == 1
    assert (await box.call("account", caller=bob)).cached


async def test_a_tool_with_a_context_may_say_its_cache_is_shared(backend: StateBackend) -> None:
    runs = 0

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(per_caller=False)))
    def clock(ctx: tw.Context) -> str:
        nonlocal runs
        runs += 1
        return f"reading {runs}"  # reads only the deadline, say: the same for everyone

    box = tw.Toolbox([clock], runtime=Executor(backend=backend))
    first = await box.call("clock", caller=tw.Caller(id="alice"))
    second = await box.call("clock", caller=tw.Caller(id="bob"))
    assert (first.value, second.value, second.cached) == ("reading 1", "reading 1", True)


async def test_a_tool_without_a_context_shares_its_cache(backend: StateBackend) -> None:
    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache()))
    def rates(currency: str) -> str:
        return currency.upper()

    box = tw.Toolbox([rates], runtime=Executor(backend=backend))
    await box.call("rates", {"currency": "eur"}, caller=tw.Caller(id="alice"))
    assert (await box.call("rates", {"currency": "eur"}, caller=tw.Caller(id="bob"))).cached


async def test_cache_stampede_across_executors_sharing_redis(
    redis_url: str, redis_prefix: str
) -> None:
    from toolwire.state.redis import RedisBackend

    runs = 0

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(ttl=30)))
    async def report(day: str) -> str:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.2)
        return "report " + day

    # two executors = two owners, as two replicas would be
    backends = [RedisBackend(redis_url, prefix=redis_prefix) for _ in range(2)]
    boxes = [tw.Toolbox([report], runtime=Executor(backend=b)) for b in backends]
    try:
        results = await asyncio.gather(
            *(boxes[i % 2].call("report", {"day": "mon"}) for i in range(100))
        )
    finally:
        async for key in backends[0].client.scan_iter(match=redis_prefix + "*"):
            await backends[0].client.delete(key)
        for b in backends:
            await b.aclose()
    assert runs == 1
    assert {r.value for r in results} == {"report mon"}
