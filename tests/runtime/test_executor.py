"""The executor's core semantics: results, validation, retries, timeouts, limits, cancellation."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

import toolwire as tw
from toolwire.observe import BreakerEvent, CallRecord, metrics_text
from toolwire.runtime import Executor, check_policy, effective_policy

pytestmark = pytest.mark.anyio


def calls(name: str, args: list[str]) -> list[tw.ToolCall]:
    return [tw.ToolCall(id=f"c{i}", name=name, arguments=a) for i, a in enumerate(args)]


async def test_one_result_per_call_in_order_whatever_happens() -> None:
    @tw.tool
    async def div(a: int, b: int) -> float:
        return a / b

    box = tw.Toolbox([div], runtime=Executor())
    batch = [
        tw.ToolCall(id="1", name="div", arguments='{"a": 6, "b": 3}'),
        tw.ToolCall(id="2", name="div", arguments='{"a": 1, "b": 0}'),
        tw.ToolCall(id="3", name="nope", arguments="{}"),
        tw.ToolCall(id="4", name="div", arguments='{"a": "x"'),
        tw.ToolCall(id="5", name="div", arguments='{"a": 1}'),
    ]
    results = await box.run(batch)
    assert [r.call_id for r in results] == ["1", "2", "3", "4", "5"]
    assert results[0].ok
    assert results[0].value == 2
    assert results[1].error is not None
    assert results[1].error.kind == "execution_error"
    assert results[1].error.message.startswith("ZeroDivisionError")
    assert "Traceback" not in results[1].error.message
    kinds = [r.error.kind for r in results[2:] if r.error]
    assert kinds == ["unknown_tool", "invalid_arguments", "invalid_arguments"]
    assert [r.attempts for r in results] == [1, 1, 0, 0, 0]


async def test_flaky_tool_10000_calls_with_retries() -> None:
    rng = random.Random(1234)
    executions = 0

    @tw.tool(
        idempotent=True,
        policy=tw.Policy(
            retry=tw.Retry(
                retry_on=(ConnectionError, "remote_error"),
                attempts=8,
                backoff=0.0001,
                max_backoff=0.001,
                budget=1.0,
            )
        ),
    )
    async def flaky(i: int) -> int:
        nonlocal executions
        executions += 1
        roll = rng.random()
        if roll < 0.15:
            raise ConnectionError("connection reset")
        if roll < 0.30:
            raise tw.ToolFailure("remote_error", "upstream 503")
        return i

    box = tw.Toolbox([flaky], runtime=Executor())
    n = 10_000
    results = await box.run(calls("flaky", [f'{{"i": {i}}}' for i in range(n)]))
    assert len(results) == n
    assert [r.call_id for r in results] == [f"c{i}" for i in range(n)]
    ok = [r for r in results if r.ok]
    assert len(ok) >= 0.999 * n
    assert all(r.value == int(r.call_id[1:]) for r in ok)
    assert sum(r.attempts for r in results) == executions
    assert any(r.attempts > 1 for r in results)


async def test_retry_budget_caps_extra_load() -> None:
    executions = 0

    @tw.tool(
        read_only=True,
        policy=tw.Policy(retry=tw.Retry(retry_on=(ConnectionError,), attempts=5, backoff=0)),
    )
    def down() -> None:
        nonlocal executions
        executions += 1
        raise ConnectionError("down")

    box = tw.Toolbox([down], runtime=Executor())
    for _ in range(200):
        res = await box.call("down")
        assert res.error is not None
        assert res.error.kind == "execution_error"
    # 200 calls, a 20% budget and a reserve of 10 retries: nowhere near 5 x 200
    assert executions <= 200 + 0.2 * 200 + 10


async def test_non_idempotent_tool_is_never_run_twice() -> None:
    done: list[str] = []
    retry = tw.Retry(retry_on=(ConnectionError,), attempts=5, backoff=0)

    @tw.tool(policy=tw.Policy(retry=retry))
    def transfer(to: str) -> None:
        done.append(to)  # the work happened...
        raise ConnectionError("...but the reply was lost")

    box = tw.Toolbox([transfer], runtime=Executor())
    res = await box.call("transfer", {"to": "bob"})
    assert not res.ok
    assert res.attempts == 1
    assert done == ["bob"]
    # with an idempotency key the upstream can dedupe, so retrying is allowed
    res = await box.call("transfer", {"to": "eve"}, idempotency_key="k1")
    assert res.attempts == 5
    assert done.count("eve") == 5


async def test_retry_honours_retry_after_and_kinds_only() -> None:
    seen: list[float] = []

    @tw.tool(
        read_only=True,
        policy=tw.Policy(retry=tw.Retry(retry_on=("rate_limited",), attempts=3, backoff=0)),
    )
    async def limited(fail: bool) -> str:
        seen.append(time.monotonic())
        if len(seen) == 1:
            raise tw.ToolFailure("rate_limited", "slow down", retry_after=0.05)
        if fail:
            raise ValueError("not retried: not in retry_on")
        return "ok"

    box = tw.Toolbox([limited], runtime=Executor())
    res = await box.call("limited", {"fail": False})
    assert res.ok
    assert res.attempts == 2
    assert seen[1] - seen[0] >= 0.05
    seen.clear()
    seen.append(0.0)  # skip the rate_limited branch
    res = await box.call("limited", {"fail": True})
    assert res.attempts == 1
    assert res.error is not None
    assert res.error.kind == "execution_error"


def test_retry_on_is_required() -> None:
    with pytest.raises(TypeError):
        tw.Retry()  # type: ignore[call-arg]


async def test_invalid_arguments_never_reach_the_tool_or_the_breaker() -> None:
    hits = 0
    breaker = tw.Breaker(window=2, min_calls=1, open_for=60)

    @tw.tool(
        read_only=True,
        policy=tw.Policy(breaker=breaker, retry=tw.Retry(retry_on=("invalid_arguments",))),
    )
    def f(x: int) -> int:
        nonlocal hits
        hits += 1
        return x

    ex = Executor()
    box = tw.Toolbox([f], runtime=ex)
    for _ in range(5):
        res = await box.call("f", {"x": "nope"})
        assert res.error is not None
        assert res.error.kind == "invalid_arguments"
        assert res.attempts == 0
    assert hits == 0
    assert await ex.breaker_state("f") == "closed"
    assert (await box.call("f", {"x": 1})).ok


async def test_async_timeout_cancels_and_thread_timeout_signals() -> None:
    cancelled = asyncio.Event()
    stopped = threading.Event()

    @tw.tool(policy=tw.Policy(timeout=0.1))
    async def hang() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    @tw.tool(policy=tw.Policy(timeout=0.1))
    def cooperative(ctx: tw.Context) -> None:
        while not ctx.cancelled:
            time.sleep(0.005)
        stopped.set()

    box = tw.Toolbox([hang, cooperative], runtime=Executor())
    a, b = await box.run(
        [tw.ToolCall(id="a", name="hang"), tw.ToolCall(id="b", name="cooperative")]
    )
    assert a.error is not None
    assert a.error.kind == "timeout"
    assert b.error is not None
    assert b.error.kind == "timeout"
    assert cancelled.is_set()
    assert await asyncio.to_thread(stopped.wait, 5)


async def test_caller_deadline_is_honoured_and_seen_by_the_tool() -> None:
    seen: list[float | None] = []

    @tw.tool
    async def slow(ctx: tw.Context) -> None:
        seen.append(ctx.deadline)
        await asyncio.sleep(30)

    box = tw.Toolbox([slow], runtime=Executor())
    deadline = time.monotonic() + 0.1
    res = await box.call("slow", deadline=deadline)
    assert res.error is not None
    assert res.error.kind == "timeout"
    assert seen == [deadline]
    late = await box.call("slow", deadline=time.monotonic() - 1)
    assert late.error is not None
    assert late.error.kind == "timeout"
    assert late.attempts == 0


async def test_cancelling_a_run_cancels_in_flight_calls() -> None:
    started = asyncio.Event()
    cancelled: list[str] = []

    @tw.tool
    async def wait(tag: str) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(tag)
            raise

    box = tw.Toolbox([wait], runtime=Executor())
    task = asyncio.ensure_future(box.run(calls("wait", ['{"tag": "a"}', '{"tag": "b"}'])))
    await started.wait()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cancelled) == ["a", "b"]


async def test_run_iter_yields_as_they_finish() -> None:
    @tw.tool
    async def nap(s: float) -> float:
        await asyncio.sleep(s)
        return s

    box = tw.Toolbox([nap], runtime=Executor())
    got = [r.value async for r in box.run_iter(calls("nap", ['{"s": 0.2}', '{"s": 0.0}']))]
    assert got == [0.0, 0.2]


async def test_per_tool_concurrency_with_bounded_queue() -> None:
    gate = asyncio.Event()
    running = 0
    peak = 0

    @tw.tool(policy=tw.Policy(concurrency=2, max_queue=1))
    async def busy(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1
        return i

    box = tw.Toolbox([busy], runtime=Executor())
    task = asyncio.ensure_future(box.run(calls("busy", [f'{{"i": {i}}}' for i in range(5)])))
    await asyncio.sleep(0.05)
    gate.set()
    results = await task
    kinds = [r.error.kind if r.error else "ok" for r in results]
    assert kinds.count("ok") == 3
    assert kinds.count("rate_limited") == 2
    assert peak == 2


async def test_queue_wait_times_out_at_the_deadline() -> None:
    @tw.tool(policy=tw.Policy(concurrency=1))
    async def single() -> None:
        await asyncio.sleep(0.3)

    box = tw.Toolbox([single], runtime=Executor())
    deadline = time.monotonic() + 0.1
    first, second = await box.run(
        [tw.ToolCall(id="1", name="single"), tw.ToolCall(id="2", name="single")], deadline=deadline
    )
    assert first.error is not None
    assert first.error.kind == "timeout"
    assert second.error is not None
    assert second.error.kind == "timeout"
    assert second.attempts == 0  # it never got a slot


async def test_sequential_tools_never_overlap() -> None:
    running = 0
    peak = 0

    @tw.tool(sequential=True)
    async def one_at_a_time(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        return i

    box = tw.Toolbox([one_at_a_time], runtime=Executor())
    results = await box.run(calls("one_at_a_time", [f'{{"i": {i}}}' for i in range(20)]))
    assert all(r.ok for r in results)
    assert peak == 1


async def test_global_cap_holds() -> None:
    running = 0
    peak = 0

    @tw.tool
    async def t(i: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.002)
        running -= 1

    box = tw.Toolbox([t], runtime=Executor(max_concurrency=3))
    results = await box.run(calls("t", [f'{{"i": {i}}}' for i in range(30)]))
    assert all(r.ok for r in results)
    assert peak == 3


async def test_rate_limit_rejects_with_retry_after_or_waits() -> None:
    @tw.tool(policy=tw.Policy(rate_limit=tw.RateLimit(rate=3, per=10)))
    def limited() -> str:
        return "ok"

    @tw.tool(policy=tw.Policy(rate_limit=tw.RateLimit(rate=50, per=1, max_wait=1.0)))
    def patient() -> str:
        return "ok"

    @tw.tool(policy=tw.Policy(rate_limit=tw.RateLimit(rate=1, per=10, per_caller=True)))
    def per_user() -> str:
        return "ok"

    box = tw.Toolbox([limited, patient, per_user], runtime=Executor())
    results = [await box.call("limited") for _ in range(5)]
    assert [r.ok for r in results] == [True, True, True, False, False]
    err = results[-1].error
    assert err is not None
    assert err.kind == "rate_limited"
    assert err.retry_after is not None
    assert err.retry_after > 0
    waited = await box.run(calls("patient", ["{}"] * 60))  # 10 over the burst: they wait
    assert all(r.ok for r in waited)
    alice, bob = tw.Caller(id="alice"), tw.Caller(id="bob")
    assert (await box.call("per_user", caller=alice)).ok
    assert (await box.call("per_user", caller=bob)).ok
    assert not (await box.call("per_user", caller=alice)).ok


async def test_records_metrics_and_unsubscribe() -> None:
    @tw.tool
    def ok() -> int:
        return 1

    records: list[Any] = []
    ex = Executor()
    unsubscribe = ex.subscribe(records.append)
    box = tw.Toolbox([ok], runtime=ex)
    await box.call("ok", caller=tw.Caller(id="u1"))
    unsubscribe()
    await box.call("ok")
    assert len(records) == 1
    rec = records[0]
    assert isinstance(rec, CallRecord)
    assert (rec.tool, rec.caller, rec.outcome, rec.attempts, rec.cached) == (
        "ok",
        "u1",
        "ok",
        1,
        False,
    )
    body, content_type = metrics_text()
    assert b'toolwire_tool_calls_total{outcome="ok",tool="ok"}' in body
    assert content_type.startswith("text/plain")


async def test_breaker_events_are_observable() -> None:
    events: list[BreakerEvent] = []

    @tw.tool(policy=tw.Policy(breaker=tw.Breaker(window=2, min_calls=2, open_for=60)))
    def bad() -> None:
        raise RuntimeError("boom")

    ex = Executor(on_record=lambda r: events.append(r) if isinstance(r, BreakerEvent) else None)
    box = tw.Toolbox([bad], runtime=ex)
    await box.call("bad")
    await box.call("bad")
    res = await box.call("bad")
    assert res.error is not None
    assert res.error.kind == "circuit_open"
    assert [(e.key, e.old, e.new) for e in events] == [("bad", "closed", "open")]


def test_policy_precedence_and_cache_check() -> None:
    code = tw.Policy(timeout=5, concurrency=2)

    @tw.tool(name="weather.get", read_only=True, policy=code)
    def get() -> None: ...

    @tw.tool(name="mail.send", policy=tw.Policy(cache=tw.Cache()))
    def send() -> None: ...

    config = {
        "*": tw.Policy(timeout=1, rate_limit=tw.RateLimit(rate=1)),
        "weather.get": tw.Policy(timeout=9),
        "weather.*": tw.Policy(timeout=3, concurrency=4),
    }
    pol = effective_policy(get, config, default=tw.Policy(max_queue=7))
    assert (pol.timeout, pol.concurrency, pol.max_queue) == (9, 4, 7)
    assert pol.rate_limit == tw.RateLimit(rate=1)
    check_policy(get)
    with pytest.raises(tw.ToolDefinitionError):
        check_policy(send)


async def test_cache_on_a_tool_with_side_effects_fails_its_calls_clearly() -> None:
    @tw.tool(name="mail.send")
    def send() -> None: ...

    box = tw.Toolbox([send], runtime=Executor(policies={"mail.*": tw.Policy(cache=tw.Cache())}))
    res = await box.call("mail.send")
    assert res.error is not None
    assert "neither read_only nor idempotent" in res.error.message


def test_local_cache_keys_keep_short_arguments_and_scope_callers_unambiguously() -> None:
    from toolwire.runtime._keys import cache_key

    short = {"b": 1, "a": "x"}
    assert cache_key("t", short, None, False, local=True) == 't:{"a":"x","b":1}'
    assert cache_key("t", {"a": "x", "b": 1}, None, False, local=True) == cache_key(
        "t", short, None, False, local=True
    )
    long = {"q": "y" * 300}
    hashed = cache_key("t", long, None, False, local=True)
    assert hashed == cache_key("t", long, None, False)  # long texts are hashed
    assert len(hashed) == len("t:") + 32
    # a caller id shaped like the rest of another key does not reach that key
    keys = {
        cache_key("t", short, "alice", True, local=True),
        cache_key("t", short, "", True, local=True),
        cache_key("t", short, None, False, local=True),
        cache_key("t", {"a": "x"}, 'x","b":1}', True, local=True),
        cache_key("t", long, "alice", True, local=True),
        cache_key("t", long, None, False, local=True),
    }
    assert len(keys) == 6


async def test_memory_cache_hits_and_invalidates_long_arguments_too() -> None:
    runs = 0

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(per_caller=True)))
    async def echo(text: str, n: int = 0) -> str:
        nonlocal runs
        runs += 1
        return text

    box = tw.Toolbox([echo], runtime=Executor())
    alice = tw.Caller(id="alice")
    for args in ({"text": "short", "n": 1}, {"text": "z" * 400, "n": 1}):
        assert not (await box.call("echo", args, caller=alice)).cached
        swapped = f'{{"n": 1, "text": "{args["text"]}"}}'
        assert (await box.call("echo", swapped, caller=alice)).cached
        assert not (await box.call("echo", args, caller=tw.Caller(id="bob"))).cached
        assert await box.runtime.invalidate(box.get("echo"), args, caller=alice) == 1
        assert not (await box.call("echo", args, caller=alice)).cached
    assert runs == 6


async def test_memory_cache_miss_joiners_survive_a_cancelled_owner() -> None:
    runs = 0
    started = asyncio.Event()

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache()))
    async def slow(q: str) -> str:
        nonlocal runs
        runs += 1
        started.set()
        await asyncio.sleep(0.05)
        return q.upper()

    box = tw.Toolbox([slow], runtime=Executor())
    owner = asyncio.ensure_future(box.call("slow", {"q": "a"}))
    await started.wait()
    joiners = [asyncio.ensure_future(box.call("slow", {"q": "a"})) for _ in range(5)]
    await asyncio.sleep(0)
    owner.cancel()
    results = await asyncio.gather(*joiners)
    assert owner.cancelled()
    assert [r.value for r in results] == ["A"] * 5
    assert runs == 2  # the cancelled owner's run, then one run for all five joiners
    assert sum(not r.cached for r in results) == 1
    assert (await box.call("slow", {"q": "a"})).cached


async def test_memory_cache_subclass_overriding_the_async_methods_is_still_used() -> None:
    from toolwire.state import BackendUnavailable, MemoryBackend

    class Down(MemoryBackend):
        gets = sets = 0

        async def cache_get(self, key: str) -> bytes | None:
            self.gets += 1
            raise BackendUnavailable("down")

        async def cache_set(self, key: str, value: bytes, ttl: float, max_entries: int) -> None:
            self.sets += 1
            raise BackendUnavailable("down")

    runs = 0

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache()))
    async def ping(q: str) -> str:
        nonlocal runs
        runs += 1
        return q

    backend = Down()
    assert not backend.cache_nowait and MemoryBackend().cache_nowait
    box = tw.Toolbox([ping], runtime=Executor(backend=backend))
    results = [await box.call("ping", {"q": "x"}) for _ in range(3)]
    assert [(r.value, r.cached) for r in results] == [("x", False)] * 3
    assert (runs, backend.gets, backend.sets) == (3, 3, 3)
