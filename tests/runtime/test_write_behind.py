"""After-call writes on a shared store go behind the answer (issue 21): what that keeps true.

* this process's next call sees every earlier call's writes (they ride ahead of its
  admission), so its own breaker and idempotency decisions are never stale;
* another process sees them once the flush lands: within one round trip after the answer on
  a healthy store (``Executor.flush`` waits for it), which is the staleness bound;
* a write is never lost while the process runs: through an outage it is kept, answers a
  duplicate of its idempotency key here, and is written when the store is back;
* ``aclose`` writes what is queued and leaves no task, claim, lock or slot behind.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from runtime_fixtures import (  # noqa: F401
    RedisServer,
    close_backend,
    private_redis_fixture,
    redis_prefix_fixture,
)

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state.redis import RedisBackend

pytestmark = pytest.mark.anyio

TRIP = tw.Breaker(window=1, min_calls=1, open_for=60.0)


def _kind(res: tw.ToolResult) -> str:
    return res.error.kind if res.error is not None else "ok"


def _box(backend: Any, policy: tw.Policy, runs: list[str]) -> tw.Toolbox:
    @tw.tool(read_only=True, policy=policy)
    async def upstream(q: str) -> str:
        runs.append(q)
        if q == "bad":
            raise tw.ToolFailure("remote_error", "down")
        await asyncio.sleep(0)
        return q.upper()

    return tw.Toolbox([upstream], runtime=Executor(backend=backend))


async def test_the_next_call_here_sees_the_breaker_record_of_the_last(
    redis_url: str, redis_prefix: str
) -> None:
    backend = RedisBackend(redis_url, prefix=redis_prefix)
    runs: list[str] = []
    box = _box(backend, tw.Policy(breaker=TRIP), runs)
    try:
        for _ in range(20):  # no wait between: each record rides ahead of the next admission
            await box.runtime.force_breaker("upstream", None)
            assert _kind(await box.call("upstream", {"q": "bad"})) == "remote_error"
            assert _kind(await box.call("upstream", {"q": "good"})) == "circuit_open"
        assert runs == ["bad"] * 20
    finally:
        await box.runtime.aclose()
        await close_backend(backend, redis_prefix)


async def test_another_process_sees_the_record_once_it_is_flushed(
    redis_url: str, redis_prefix: str
) -> None:
    # two executors on one store stand for two processes
    first = RedisBackend(redis_url, prefix=redis_prefix)
    second = RedisBackend(redis_url, prefix=redis_prefix)
    runs: list[str] = []
    here, there = (
        _box(first, tw.Policy(breaker=TRIP), runs),
        _box(second, tw.Policy(breaker=TRIP), runs),
    )
    try:
        assert _kind(await here.call("upstream", {"q": "bad"})) == "remote_error"
        # the bound: the record is in the store within one round trip of the answer (a
        # generous 10 s here for a loaded machine; on loopback it is well under a millisecond)
        assert await here.runtime.flush(10.0)
        assert here.runtime._services.settler.pending == 0
        assert _kind(await there.call("upstream", {"q": "good"})) == "circuit_open"
        assert runs == ["bad"]
    finally:
        for box, backend in ((here, first), (there, second)):
            await box.runtime.aclose()
            await close_backend(backend, redis_prefix)


async def test_the_staleness_bound_is_the_one_flush_started_behind_the_answer(
    redis_url: str, redis_prefix: str
) -> None:
    # The bound in docs/architecture.md: when the answer comes back the record is queued,
    # not written (nothing of it on the critical path), and a flusher is already started for
    # it with no further call; that flusher's pipelined round trip is all another process
    # waits for. Fails if the record were written before the answer (pending 0) or only
    # with the next call (no flusher task).
    first = RedisBackend(redis_url, prefix=redis_prefix)
    second = RedisBackend(redis_url, prefix=redis_prefix)
    runs: list[str] = []
    here, there = (
        _box(first, tw.Policy(breaker=TRIP), runs),
        _box(second, tw.Policy(breaker=TRIP), runs),
    )
    try:
        assert _kind(await here.call("upstream", {"q": "bad"})) == "remote_error"
        settler = here.runtime._services.settler
        assert settler.pending == 1
        flusher = settler._task
        assert flusher is not None and not flusher.done()
        await asyncio.wait_for(asyncio.shield(flusher), 10.0)  # bounded for a loaded machine
        assert settler.pending == 0
        assert _kind(await there.call("upstream", {"q": "good"})) == "circuit_open"
        assert runs == ["bad"]
    finally:
        for box, backend in ((here, first), (there, second)):
            await box.runtime.aclose()
            await close_backend(backend, redis_prefix)


async def test_a_record_is_never_lost_while_the_process_runs(
    private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Redis dies while the call runs and comes back empty: the finished call's idempotency
    # record waits here (answering duplicates) and is written once Redis answers again, so
    # another process then gets the result instead of running the call a second time.
    caplog.set_level(logging.WARNING)
    inside, release = asyncio.Event(), asyncio.Event()
    runs: list[int] = []

    @tw.tool(idempotent=False)
    async def charge(amount: int) -> int:
        runs.append(amount)
        inside.set()
        await release.wait()
        return amount

    backend = RedisBackend(private_redis.url, retry_interval=0.05, timeout=0.5)
    box = tw.Toolbox([charge], runtime=Executor(backend=backend))
    try:
        call = asyncio.ensure_future(box.call("charge", {"amount": 7}, idempotency_key="o-1"))
        await inside.wait()
        private_redis.stop(hard=True)
        release.set()
        assert (await call).value == 7  # answered: its record could not be written yet
        # a duplicate here is answered from the record kept in this process
        dup = await box.call("charge", {"amount": 7}, idempotency_key="o-1")
        assert (dup.value, dup.cached) == (7, True)
        assert box.runtime._services.settler.pending >= 1
        private_redis.start()  # back, with nothing in it
        assert await box.runtime.flush(20.0)
        other = RedisBackend(private_redis.url)
        elsewhere = tw.Toolbox([charge], runtime=Executor(backend=other))
        try:
            again = await elsewhere.call("charge", {"amount": 7}, idempotency_key="o-1")
            assert (again.value, again.cached) == (7, True)
        finally:
            await elsewhere.runtime.aclose()
            await close_backend(other)
        assert runs == [7]
    finally:
        release.set()
        await box.runtime.aclose()
        await close_backend(backend)


async def test_aclose_writes_everything_and_leaves_nothing_behind(
    redis_url: str, redis_prefix: str
) -> None:
    backend = RedisBackend(redis_url, prefix=redis_prefix)
    policy = tw.Policy(
        cache=tw.Cache(), breaker=tw.Breaker(), concurrency=3, rate_limit=tw.RateLimit(rate=1e6)
    )
    runs: list[str] = []
    box = _box(backend, policy, runs)
    try:
        results = await box.run(
            [
                tw.ToolCall(id=str(i), name="upstream", arguments=f'{{"q": "q{i % 5}"}}')
                for i in range(30)
            ]
            + [tw.ToolCall(id="k", name="upstream", arguments='{"q": "keyed"}')]
        )
        assert all(r.ok for r in results)
        keyed = await box.call("upstream", {"q": "once"}, idempotency_key="k-1")
        assert keyed.ok
    finally:
        await box.runtime.aclose()
    left = [t for t in asyncio.all_tasks() if t.get_name() == "toolwire-settle"]
    assert left == []
    assert box.runtime._services.settler.pending == 0
    try:
        names = [k.decode() async for k in backend.client.scan_iter(match=redis_prefix + "*")]
        # what stays is state, never a claim: no fill lock, no pending record, no slot held
        assert not [n for n in names if ":lk:" in n or ":sem" in n], names
        pending = [n for n in names if ":id:" in n and (await backend.client.get(n))[:2] == b"p:"]
        assert pending == []
        assert any(":c:" in n for n in names) and any(":br:" in n for n in names)
    finally:
        await close_backend(backend, redis_prefix)


async def test_aclose_is_bounded_when_the_store_is_gone(
    private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    backend = RedisBackend(private_redis.url, retry_interval=0.05, timeout=0.5)
    box = _box(backend, tw.Policy(breaker=tw.Breaker()), [])
    ex = box.runtime
    assert (await box.call("upstream", {"q": "a"})).ok
    private_redis.stop(hard=True)
    # one record still queued (or written already): the close gives up after its wait
    ex._services.settler.submit(*_a_breaker_write())
    caplog.set_level(logging.WARNING, logger="toolwire.runtime")
    async with asyncio.timeout(30):
        await ex._services.settler.aclose(timeout=0.5)
    assert ex._services.settler.pending == 0
    assert any("not made at close" in r.getMessage() for r in caplog.records)
    await ex.aclose()
    await close_backend(backend)


def _a_breaker_write() -> tuple[Any, Any]:
    from toolwire.state import BreakerConfig, CallPlan, Settlement

    plan = CallPlan(owner="o", lease=1.0, breaker_key="upstream", breaker=BreakerConfig())
    return plan, Settlement(breaker_generation=0, outcome="success")
