"""The Redis backend on a real local Redis Cluster (3 primaries + 3 replicas on loopback).

Two executors on one cluster stand for two processes or replicas: a breaker tripped by one
rejects through the other, a rate limit and a cache are shared, an idempotency key runs once.
Every key one call touches carries the same hash tag, so the server puts them in one slot.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis_nodes import free_ports

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state import CallPlan, Settlement
from toolwire.state._redis_keys import check_prefix, tag, tagged, untagged

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a private 3-node cluster: 6 s setup


@pytest.fixture
def cluster_ports(redis_cluster: Any) -> list[int]:
    """Client ports of the session's cluster (``redis_cluster``, 3 primaries + 3 replicas)."""
    return list(redis_cluster.alive())


@pytest.fixture
def prefix() -> str:
    return f"twc:{uuid.uuid4().hex[:10]}:"


@pytest.fixture
async def backends(cluster_ports: list[int], prefix: str) -> AsyncIterator[list[Any]]:
    """Two backends on the cluster (two 'replicas'), by URL scheme and by ``cluster=True``."""
    from toolwire.state.redis import RedisBackend

    first = RedisBackend(f"redis+cluster://127.0.0.1:{cluster_ports[0]}", prefix=prefix)
    second = RedisBackend(f"redis://127.0.0.1:{cluster_ports[1]}", prefix=prefix, cluster=True)
    try:
        yield [first, second]
    finally:
        async for key in first.client.scan_iter(match=prefix + "*", count=500):
            await first.client.delete(key)
        await first.aclose()
        await second.aclose()


async def _keys(backend: Any, prefix: str) -> set[str]:
    return {k.decode() async for k in backend.client.scan_iter(match=prefix + "*", count=500)}


async def _slot(backend: Any, key: str) -> int:
    """The slot the server itself computes for ``key`` (CLUSTER KEYSLOT)."""
    return int(await backend.client.execute_command("CLUSTER KEYSLOT", key))


def _boxes(backends: list[Any], *tools: tw.Tool) -> list[tw.Toolbox]:
    return [tw.Toolbox(list(tools), runtime=Executor(backend=b)) for b in backends]


async def test_cluster_client_is_built(backends: list[Any]) -> None:
    from redis.asyncio.cluster import RedisCluster

    for b in backends:
        assert isinstance(b.client, RedisCluster)
        assert b.cluster


async def test_breaker_tripped_through_one_executor_rejects_through_another(
    backends: list[Any],
) -> None:
    hits = 0

    @tw.tool(
        read_only=True,
        policy=tw.Policy(breaker=tw.Breaker(window=2, min_calls=2, open_for=60.0)),
    )
    def flaky(q: str) -> str:
        nonlocal hits
        hits += 1
        raise tw.ToolFailure("remote_error", "upstream is down")

    one, two = _boxes(backends, flaky)
    for i in range(2):
        res = await one.call("flaky", {"q": str(i)})
        assert res.error is not None and res.error.kind == "remote_error"
    res = await two.call("flaky", {"q": "x"})
    assert res.error is not None and res.error.kind == "circuit_open"
    assert hits == 2
    assert await two.runtime.breaker_state("flaky") == "open"


async def test_shared_breaker_key_across_tools_in_other_slots(backends: list[Any]) -> None:
    """A ``Breaker.key`` shared by two tools lives in its own slot: admission and record go
    apart from the tool's cache and rate keys, with the same outcome."""
    breaker = tw.Breaker(window=2, min_calls=2, open_for=60.0, key="upstream-x")
    policy = tw.Policy(
        breaker=breaker, cache=tw.Cache(ttl=60.0), rate_limit=tw.RateLimit(rate=100, per=1.0)
    )

    @tw.tool(read_only=True, policy=policy)
    def alpha(q: str) -> str:
        raise tw.ToolFailure("remote_error", "down")

    @tw.tool(read_only=True, policy=policy)
    def beta(q: str) -> str:
        return q

    assert tag("alpha:x") != tag("upstream-x")
    one, two = _boxes(backends, alpha, beta)
    for i in range(2):
        res = await one.call("alpha", {"q": str(i)})
        assert res.error is not None and res.error.kind == "remote_error"
    res = await two.call("beta", {"q": "y"})
    assert res.error is not None and res.error.kind == "circuit_open"
    await two.runtime.force_breaker("upstream-x", None)
    res = await two.call("beta", {"q": "y"})
    assert res.ok and res.value == "y" and not res.cached
    res = await one.call("beta", {"q": "y"})
    assert res.ok and res.cached


async def test_rate_limit_is_shared(backends: list[Any]) -> None:
    @tw.tool(read_only=True, policy=tw.Policy(rate_limit=tw.RateLimit(rate=3, per=600.0)))
    def limited(n: int) -> int:
        return n

    one, two = _boxes(backends, limited)
    results = [await box.call("limited", {"n": i}) for i, box in enumerate([one, two] * 3)]
    assert [r.ok for r in results] == [True, True, True, False, False, False]
    assert all(r.error.kind == "rate_limited" for r in results[3:] if r.error is not None)


async def test_cache_hit_across_executors_and_invalidation(backends: list[Any]) -> None:
    hits = 0

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(ttl=600.0)))
    def lookup(city: str) -> str:
        nonlocal hits
        hits += 1
        return city.upper()

    one, two = _boxes(backends, lookup)
    for city in ("oslo", "lima", "rome"):
        assert (await one.call("lookup", {"city": city})).cached is False
    res = await two.call("lookup", {"city": "oslo"})
    assert res.ok and res.cached and res.value == "OSLO" and hits == 3
    # one call's entry, then every entry of the tool (a SCAN over every primary)
    assert await two.runtime.invalidate("lookup", {"city": "oslo"}) == 1
    assert (await one.call("lookup", {"city": "oslo"})).cached is False
    assert await one.runtime.invalidate("lookup") == 3
    assert (await two.call("lookup", {"city": "lima"})).cached is False
    assert hits == 5


async def test_idempotency_key_runs_once(backends: list[Any]) -> None:
    runs = 0
    started = asyncio.Event()
    gate = asyncio.Event()

    @tw.tool
    async def charge(amount: int) -> str:
        nonlocal runs
        runs += 1
        started.set()
        await gate.wait()
        return f"charged {amount} (run {runs})"

    one, two = _boxes(backends, charge)
    first = asyncio.ensure_future(one.call("charge", {"amount": 5}, idempotency_key="order-1"))
    await started.wait()  # the first claim is taken before the duplicate arrives
    second = asyncio.ensure_future(two.call("charge", {"amount": 5}, idempotency_key="order-1"))
    await asyncio.sleep(0.1)
    gate.set()
    a, b = await asyncio.gather(first, second)
    assert a.ok and b.ok and a.value == b.value == "charged 5 (run 1)"
    assert runs == 1
    again = await two.call("charge", {"amount": 5}, idempotency_key="order-1")
    assert again.value == "charged 5 (run 1)" and runs == 1


async def test_keys_of_one_call_live_in_one_slot(backends: list[Any], prefix: str) -> None:
    """Cache entry, fill lock, idempotency record, rate counter and breaker hash/window of
    one call: the server's own CLUSTER KEYSLOT puts them all in one slot."""
    backend = backends[0]
    seen: set[str] = set()
    inside = asyncio.Event()
    release = asyncio.Event()
    policy = tw.Policy(
        cache=tw.Cache(ttl=600.0, per_caller=True),
        rate_limit=tw.RateLimit(rate=100, per=1.0, per_caller=True),
        breaker=tw.Breaker(window=5, min_calls=5),
    )

    @tw.tool(idempotent=True, policy=policy)
    async def get_weather(city: str) -> str:
        inside.set()
        await release.wait()
        return city

    (box,) = _boxes([backend], get_weather)
    call = asyncio.ensure_future(
        box.call(
            "get_weather",
            {"city": "Oslo"},
            caller=tw.Caller(id="alice:{x}"),
            idempotency_key="k-1",
        )
    )
    await inside.wait()
    seen |= await _keys(backend, prefix)  # the fill lock and the pending claim
    release.set()
    assert (await call).ok
    assert await box.runtime.flush(10.0)  # the after-call writes go behind the answer
    seen |= await _keys(backend, prefix)  # the entry, the record, the counter, the breaker
    kinds = {key[len(prefix) :].split(":{", 1)[0] for key in seen}
    assert kinds == {"c", "lk:c", "id", "rl", "br", "brw"}, seen
    slots = {await _slot(backend, key) for key in seen}
    assert len(slots) == 1, seen
    assert slots == {await _slot(backend, "{get_weather}")}


async def test_plan_across_slots_is_decided_policy_by_policy(backends: list[Any]) -> None:
    """A plan whose keys a caller named in several groups still works on a cluster."""
    backend = backends[0]
    plan = CallPlan(
        owner="me", lease=30.0, cache_key="one:abc", idem_key="two:def", rate_key="three"
    )
    clr = await backend.admit(plan)
    assert clr.stop is None and clr.cache_locked and clr.idem_claimed
    await backend.settle(
        plan, Settlement(cache_locked=True, cache_value=b"v", idem_claimed=True, idem_data=b"d")
    )
    again = await backend.admit(plan)
    assert again.stop == "cache_hit" and again.data == b"v"


@pytest.mark.parametrize(
    "key", ["tool:abc", "tool", "", ":x", "a{b:c", "}x:y", "{t}:z", "ns:tool:caller:d"]
)
def test_key_layout_round_trips(key: str) -> None:
    text = tagged(key)
    assert untagged(text) == key
    open_, close = text.index("{"), text.index("}")
    assert text[open_ + 1 : close] == tag(key) != ""  # the tag Redis will hash on
    assert tag(key) == tag(key.partition(":")[0])  # one group, one tag


def test_prefix_with_an_open_tag_is_refused() -> None:
    check_prefix("toolwire:")
    check_prefix("{app}:")
    for bad in ("app{:", "app{}:"):
        with pytest.raises(ValueError, match="hash tag"):
            check_prefix(bad)


async def test_config_file_url_builds_a_cluster_backend(
    cluster_ports: list[int], prefix: str, tmp_path: Path
) -> None:
    from toolwire.config import load_config
    from toolwire.serve._config import backend_from

    path = tmp_path / "toolwire.toml"
    path.write_text(
        f'[state]\nbackend = "redis"\nurl = "redis+cluster://127.0.0.1:{cluster_ports[2]}"\n'
        f'prefix = "{prefix}"\n'
    )
    backend = backend_from(load_config(path))
    try:
        assert backend.cluster
        assert await backend.breaker_state("anything") == "closed"
    finally:
        await backend.aclose()


async def test_unreachable_cluster_is_an_outage() -> None:
    from toolwire.state import BackendUnavailable
    from toolwire.state.redis import RedisBackend

    (port,) = free_ports(1)  # nothing listens there
    backend = RedisBackend(f"redis+cluster://127.0.0.1:{port}", connect_timeout=0.2)
    try:
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await backend.breaker_state("t")
        assert not backend.available
    finally:
        await backend.aclose()


async def test_cache_delete_by_prefix_on_every_primary(backends: list[Any]) -> None:
    """Prefixes that end inside a group, and groups that cannot be tags, are found too."""
    backend = backends[0]
    names = ["tool:a", "tool:b", "toolkit:a", "to{o}l:a", "}x:a", "other:a"]
    for name in names:
        await backend.cache_set(name, name.encode(), 600, 100)
    slots = {await _slot(backend, backend._k("c", n)) for n in names}
    assert len(slots) > 1  # several slots: the sweep must not stop at one
    assert await backend.cache_delete("to{o}l:*") == 1
    assert await backend.cache_delete("tool*") == 3  # tool:a, tool:b, toolkit:a
    assert await backend.cache_delete("}*") == 1
    assert await backends[1].cache_get("other:a") == b"other:a"
    assert await backend.cache_delete("*") == 1
