"""Shared concurrency slots on a real local Redis Cluster (fixtures of test_redis_cluster)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_redis_cluster import backends, cluster_ports, prefix  # noqa: F401

import toolwire as tw
from toolwire.runtime import Executor

pytestmark = pytest.mark.anyio


async def _slot(backend: Any, key: str) -> int:
    return int(await backend.client.execute_command("CLUSTER KEYSLOT", key))


async def test_slot_keys_share_the_tools_slot_and_the_limit_holds(
    backends: list[Any],  # noqa: F811 - the imported fixture
    prefix: str,  # noqa: F811
) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()
    policy = tw.Policy(concurrency=1, max_queue=0, cache=tw.Cache(ttl=600.0), breaker=tw.Breaker())

    @tw.tool(read_only=True, policy=policy)
    async def get_weather(city: str) -> str:
        inside.set()
        await release.wait()
        return city

    one, two = (tw.Toolbox([get_weather], runtime=Executor(backend=b)) for b in backends)
    call = asyncio.ensure_future(one.call("get_weather", {"city": "Oslo"}))
    await inside.wait()
    backend = backends[0]
    seen = {k.decode() async for k in backend.client.scan_iter(match=prefix + "*", count=500)}
    assert {k[len(prefix) :].split(":{", 1)[0] for k in seen} == {"sem", "lk:c"}, seen
    # the holders, the queue and its expiries hash to the tool's slot with the rest
    names = [backend._k(kind, "get_weather") for kind in ("sem", "semq", "semx")]
    slots = {await _slot(backend, k) for k in [*seen, *names]}
    assert slots == {await _slot(backend, "{get_weather}")}
    # the other replica finds the one slot taken
    refused = await two.call("get_weather", {"city": "Bergen"})
    assert refused.error is not None and refused.error.kind == "rate_limited"
    release.set()
    assert (await call).ok
    assert (await two.call("get_weather", {"city": "Bergen"})).ok


async def test_shared_breaker_key_in_another_slot_with_a_slot(
    backends: list[Any],  # noqa: F811 - the imported fixture
) -> None:
    """A ``Breaker.key`` in its own slot: breaker, then the concurrency slot, in order."""
    policy = tw.Policy(concurrency=1, breaker=tw.Breaker(key="upstream-x"))

    @tw.tool(read_only=True, policy=policy)
    async def lookup(city: str) -> str:
        return city

    box = tw.Toolbox([lookup], runtime=Executor(backend=backends[0]))
    for city in ("a", "b"):
        assert (await box.call("lookup", {"city": city})).value == city
    assert await box.runtime.flush(10.0)  # the releases are written behind the answers
    assert int(await backends[0].client.zcard(backends[0]._k("sem", "lookup"))) == 0
