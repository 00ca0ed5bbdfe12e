"""Redis round trips per call, counted at the connection, for each policy combination; and
the chain-order rules the one-step ``admit`` must keep (on memory, composed and Redis).

The counts run against a private redis-server that starts with no scripts loaded, so they
cannot depend on what earlier tests (or earlier runs) left in a shared server's script cache:
the counted call's scripts were loaded when the warm-up ran, whichever path that took.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from runtime_fixtures import (  # noqa: F401
    RedisServer,
    backend_fixture,
    close_backend,
    private_redis_fixture,
    redis_prefix_fixture,
)

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.runtime._keys import cache_key, idem_key
from toolwire.state import StateBackend

pytestmark = pytest.mark.anyio

OPEN_FOR = 0.6


@dataclass
class Counted:
    backend: StateBackend
    trips: list[int] = field(default_factory=lambda: [0])


@pytest.fixture(name="counted")
async def counted_fixture(private_redis: RedisServer, redis_prefix: str) -> AsyncIterator[Counted]:
    import redis.asyncio as aioredis
    from redis.asyncio.connection import Connection

    from toolwire.state.redis import RedisBackend

    trips = [0]

    class CountingConnection(Connection):
        # every request written to the socket is one round trip (a pipeline would be one too)
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            trips[0] += 1
            await super().send_packed_command(command, check_health)

    client = aioredis.Redis.from_url(
        private_redis.url,
        connection_class=CountingConnection,
        socket_timeout=5.0,
        socket_connect_timeout=5.0,
    )
    backend = RedisBackend(client=client, prefix=redis_prefix)
    try:
        yield Counted(backend, trips)
    finally:
        await close_backend(backend)


CACHE = tw.Cache(ttl=30)
RATE = tw.RateLimit(rate=1e9)
BREAKER = tw.Breaker()
FULL = tw.Policy(
    timeout=5.0,
    retry=tw.Retry(retry_on=(ConnectionError,)),
    concurrency=100,
    cache=CACHE,
    rate_limit=RATE,
    breaker=BREAKER,
)
SLOTS = tw.Policy(concurrency=4)

Step = tuple[str, str | None]  # (city, idempotency key)

# name: (policy, calls made first, the measured call, round trips before its answer, and
# behind it: its after-call writes, sent once the answer is back)
CASES: dict[str, tuple[tw.Policy, list[Step], Step, int, int]] = {
    "no shared policy": (tw.Policy(timeout=5.0), [], ("a", None), 0, 0),
    "cache miss": (tw.Policy(cache=CACHE), [], ("a", None), 1, 1),
    "cache hit": (tw.Policy(cache=CACHE), [("a", None)], ("a", None), 1, 0),
    "idempotency key, first": (tw.Policy(), [], ("a", "k"), 1, 1),
    "idempotency key, duplicate": (tw.Policy(), [("a", "k")], ("a", "k"), 1, 0),
    "rate limit": (tw.Policy(rate_limit=RATE), [], ("a", None), 1, 0),
    "breaker": (tw.Policy(breaker=BREAKER), [], ("a", None), 1, 1),
    "rate limit + breaker": (tw.Policy(rate_limit=RATE, breaker=BREAKER), [], ("a", None), 1, 1),
    "concurrency": (SLOTS, [], ("a", None), 1, 1),
    "concurrency + breaker": (tw.Policy(concurrency=4, breaker=BREAKER), [], ("a", None), 1, 1),
    "concurrency + rate limit": (tw.Policy(concurrency=4, rate_limit=RATE), [], ("a", None), 1, 1),
    "all five, cache miss": (FULL, [], ("a", "k"), 1, 1),
    "all five, cache hit": (FULL, [("a", "k")], ("a", "j"), 1, 0),
    "all five, cache miss, duplicate key": (FULL, [("a", "k")], ("b", "k"), 1, 0),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_round_trips_per_policy_combination(counted: Counted, case: str) -> None:
    # issue 21: at most one round trip on the caller's critical path, whatever the policies
    policy, before, (city, key), expected, behind = CASES[case]
    runs = 0

    @tw.tool(read_only=True, policy=policy)
    async def lookup(city: str) -> str:
        nonlocal runs
        runs += 1
        return city.upper()

    box = tw.Toolbox([lookup], runtime=Executor(backend=counted.backend))
    # connect and load the scripts first: those trips happen once per process, not per call
    warm = await box.call("lookup", {"city": "warm"}, idempotency_key="warm")
    assert warm.ok, warm
    for c, k in before:
        assert (await box.call("lookup", {"city": c}, idempotency_key=k)).ok
    assert await box.runtime.flush(10.0)  # nothing of the earlier calls rides along
    counted.trips[0] = 0
    runs_before = runs
    res = await box.call("lookup", {"city": city}, idempotency_key=key)
    assert counted.trips[0] == expected
    assert await box.runtime.flush(10.0)
    assert counted.trips[0] == expected + behind
    if any(k == key and c != city for c, k in before):
        # a duplicate key with other arguments is refused, from the stored record
        assert res.error is not None and res.error.kind == "invalid_arguments", res
        assert runs == runs_before
        return
    assert res.ok, res
    # a duplicate key answers with the first call's result
    first = {k: c for c, k in before if k is not None}.get(key or "", city)
    assert res.value == first.upper()
    assert runs - runs_before == (0 if res.cached else 1)


async def test_the_next_call_carries_the_writes_of_the_last_one(counted: Counted) -> None:
    # Sequential calls: each one's after-call writes ride along with the next one's admission
    # in one pipelined round trip, so a call never waits on its predecessor's writes (here
    # the one concurrency slot the last call still held in the store).
    @tw.tool(read_only=True, policy=tw.Policy(concurrency=1, breaker=BREAKER))
    async def lookup(city: str) -> str:
        return city.upper()

    box = tw.Toolbox([lookup], runtime=Executor(backend=counted.backend))
    assert (await box.call("lookup", {"city": "warm"})).ok
    assert await box.runtime.flush(10.0)
    counted.trips[0] = 0
    for i in range(20):
        res = await box.call("lookup", {"city": f"c{i}"})
        assert res.ok, res
    # one trip a call (the flusher may have sent a write or two on its own meanwhile)
    assert 20 <= counted.trips[0] <= 25
    assert await box.runtime.flush(10.0)
    client = counted.backend.client  # type: ignore[attr-defined]
    holders = await client.zcard(counted.backend._k("sem", "lookup"))  # type: ignore[attr-defined]
    assert holders == 0


# -- chain order inside one step ------------------------------------------------------------


def _box(backend: StateBackend, policy: tw.Policy) -> tuple[tw.Toolbox, list[str]]:
    seen: list[str] = []

    @tw.tool(read_only=True, policy=policy)
    async def lookup(city: str) -> str:
        seen.append(city)
        if city == "slow bad":
            await asyncio.sleep(0.1)
        if city.endswith("bad"):
            raise tw.ToolFailure("remote_error", "upstream is down")
        return city.upper()

    return tw.Toolbox([lookup], runtime=Executor(backend=backend)), seen


def _kind(res: tw.ToolResult) -> str:
    return res.error.kind if res.error is not None else "ok"


async def test_cache_hits_take_no_rate_limit_slot(backend: StateBackend) -> None:
    # a burst of two calls per minute: hits must not spend them
    box, seen = _box(backend, tw.Policy(cache=CACHE, rate_limit=tw.RateLimit(rate=2, per=60)))
    assert _kind(await box.call("lookup", {"city": "a"})) == "ok"
    for _ in range(5):
        hit = await box.call("lookup", {"city": "a"})
        assert (_kind(hit), hit.cached) == ("ok", True)
    assert _kind(await box.call("lookup", {"city": "b"})) == "ok"
    assert _kind(await box.call("lookup", {"city": "c"})) == "rate_limited"
    assert seen == ["a", "b"]


async def test_duplicates_take_no_rate_limit_slot(backend: StateBackend) -> None:
    box, seen = _box(backend, tw.Policy(rate_limit=tw.RateLimit(rate=2, per=60)))
    assert _kind(await box.call("lookup", {"city": "a"}, idempotency_key="k1")) == "ok"
    for _ in range(5):
        dup = await box.call("lookup", {"city": "a"}, idempotency_key="k1")
        assert (_kind(dup), dup.value) == ("ok", "A")
    assert _kind(await box.call("lookup", {"city": "b"}, idempotency_key="k2")) == "ok"
    assert _kind(await box.call("lookup", {"city": "c"}, idempotency_key="k3")) == "rate_limited"
    assert seen == ["a", "b"]


async def test_cache_hits_and_duplicates_take_no_half_open_trial(backend: StateBackend) -> None:
    breaker = tw.Breaker(window=1, min_calls=1, open_for=OPEN_FOR)
    box, seen = _box(backend, tw.Policy(cache=CACHE, breaker=breaker))
    assert _kind(await box.call("lookup", {"city": "a"}, idempotency_key="k")) == "ok"
    assert _kind(await box.call("lookup", {"city": "bad"})) == "remote_error"
    assert _kind(await box.call("lookup", {"city": "b"})) == "circuit_open"
    await asyncio.sleep(OPEN_FOR + 0.05)
    for _ in range(3):  # half-open now: answered from the cache...
        assert _kind(await box.call("lookup", {"city": "a"})) == "ok"
    await box.runtime.invalidate("lookup")
    for _ in range(3):  # ...and, with the cache emptied, from the idempotency record
        assert _kind(await box.call("lookup", {"city": "a"}, idempotency_key="k")) == "ok"
    # the single trial is still there for a call that reaches the tool, and closes it
    assert _kind(await box.call("lookup", {"city": "b"})) == "ok"
    assert await box.runtime.breaker_state("lookup") == "closed"
    assert seen == ["a", "bad", "b"]


async def _claims_are_free(backend: StateBackend, city: str, idem: str) -> None:
    lock = "c:" + cache_key("lookup", {"city": city}, None, False)
    # nobody holds the fill lock of the refused call's cache key...
    assert await backend.lock_acquire(lock, "someone else", 5.0)
    await backend.lock_release(lock, "someone else")
    # ...and its idempotency key has neither a claim nor a stored refusal
    rec = await backend.idem_begin(idem_key("lookup", None, idem), "someone else", 5.0)
    assert rec.status == "new"
    await backend.idem_abandon(idem_key("lookup", None, idem), "someone else")


async def test_rate_limit_refusal_gives_back_cache_lock_and_claim(backend: StateBackend) -> None:
    policy = tw.Policy(cache=CACHE, rate_limit=tw.RateLimit(rate=1, per=60))
    box, seen = _box(backend, policy)
    assert _kind(await box.call("lookup", {"city": "a"}, idempotency_key="k1")) == "ok"
    refused = await box.call("lookup", {"city": "b"}, idempotency_key="k2")
    assert _kind(refused) == "rate_limited"
    assert refused.error is not None and refused.error.retry_after is not None
    await _claims_are_free(backend, "b", "k2")
    assert seen == ["a"]


async def test_breaker_rejection_gives_back_cache_lock_and_claim(backend: StateBackend) -> None:
    box, seen = _box(backend, tw.Policy(cache=CACHE, breaker=BREAKER))
    await box.runtime.force_breaker("lookup", "forced_open")
    rejected = await box.call("lookup", {"city": "b"}, idempotency_key="k2")
    assert _kind(rejected) == "circuit_open"
    await _claims_are_free(backend, "b", "k2")
    await box.runtime.force_breaker("lookup", None)
    assert _kind(await box.call("lookup", {"city": "b"}, idempotency_key="k2")) == "ok"
    assert seen == ["b"]


async def test_breaker_is_asked_after_a_rate_limit_wait(backend: StateBackend) -> None:
    # the second call waits 1.5 s for its slot; the first call (admitted while the breaker
    # was closed) fails meanwhile and opens it, so the second is refused after its wait:
    # a breaker asked before the wait would have let it through to the tool
    policy = tw.Policy(
        rate_limit=tw.RateLimit(rate=1, per=1.5, max_wait=5.0),
        breaker=tw.Breaker(window=1, min_calls=1, open_for=30.0),
    )
    box, seen = _box(backend, policy)
    results = await asyncio.gather(
        box.call("lookup", {"city": "slow bad"}), box.call("lookup", {"city": "slow bad"})
    )
    # (either call may win the first slot on a shared store)
    assert sorted(_kind(r) for r in results) == ["circuit_open", "remote_error"]
    assert seen == ["slow bad"]
