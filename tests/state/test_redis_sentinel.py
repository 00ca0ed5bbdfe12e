"""``redis+sentinel://`` URLs on a real Sentinel group (a primary, a replica and one sentinel
on loopback ports): the backend and the task store follow the primary the sentinel names,
also across a ``SENTINEL FAILOVER`` while calls flow."""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_nodes import LocalSentinel, binaries_present
from service_checks import need

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state._redis_client import parse_sentinel_url

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentinel]:
    need(binaries_present(), "redis-server and redis-cli are needed for a local Sentinel")
    group = LocalSentinel(tmp_path_factory.mktemp("redis-sentinel")).start()
    try:
        yield group
    finally:
        group.stop()


def test_sentinel_url_forms() -> None:
    assert parse_sentinel_url("redis+sentinel://10.0.0.1:26379/main") == {
        "sentinels": [("10.0.0.1", 26379)],
        "service": "main",
        "db": 0,
        "username": None,
        "password": None,
    }
    parts = parse_sentinel_url("redis+sentinel://s3cret@a:1,b:2/main/3")
    assert parts["sentinels"] == [("a", 1), ("b", 2)]
    assert (parts["password"], parts["username"], parts["db"]) == ("s3cret", None, 3)
    parts = parse_sentinel_url("redis+sentinel://app:pw@a:1/main")
    assert (parts["username"], parts["password"]) == ("app", "pw")
    for bad in ("redis+sentinel://a:1", "redis+sentinel://a/main", "redis+sentinel://a:1/m/x"):
        with pytest.raises(ValueError, match="redis\\+sentinel"):
            parse_sentinel_url(bad)


async def test_policies_and_tasks_through_a_sentinel_url(
    sentinel: LocalSentinel, tmp_path: Path
) -> None:
    from toolwire.config import load_config
    from toolwire.serve._config import backend_from
    from toolwire.state._tasks import NewTask
    from toolwire.state._tasks_redis import RedisTaskStore

    prefix = f"tws:{uuid.uuid4().hex[:8]}:"
    path = tmp_path / "toolwire.toml"
    path.write_text(
        f'[state]\nbackend = "redis"\nurl = "{sentinel.url}"\nprefix = "{prefix}"\n'
        "failover_wait = 2.5\n"
    )
    backend = backend_from(load_config(path))
    assert backend._calls.failover_wait == 2.5  # a Sentinel client follows failovers
    runs = 0

    @tw.tool(policy=tw.Policy(rate_limit=tw.RateLimit(rate=2, per=600.0), breaker=tw.Breaker()))
    def charge(amount: int) -> str:
        nonlocal runs
        runs += 1
        return f"charged {amount}"

    box = tw.Toolbox([charge], runtime=Executor(backend=backend))
    store = RedisTaskStore(sentinel.url, prefix=prefix)
    try:
        first = await box.call("charge", {"amount": 1}, idempotency_key="k")
        again = await box.call("charge", {"amount": 1}, idempotency_key="k")
        assert first.ok and again.ok and again.value == first.value and runs == 1
        assert (await box.call("charge", {"amount": 2})).ok
        limited = await box.call("charge", {"amount": 3})
        assert limited.error is not None and limited.error.kind == "rate_limited"
        # the keys are on the primary the sentinel names
        primary = sentinel.primary()
        assert int((await backend.client.connection_pool.get_master_address())[1]) == primary
        task = NewTask(
            id="t1", tool="build", owner="alice", scopes=(), arguments="{}",
            arguments_digest="d", result_ttl=60.0,
        )  # fmt: skip
        _, created = await store.create(task, max_active=None)
        assert created and (await store.get("t1")) is not None
    finally:
        await store.aclose()
        await backend.aclose()


@pytest.fixture(scope="module")
def sentinel_to_kill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentinel]:
    """A group of its own: its primary is SIGKILLed."""
    need(binaries_present(), "redis-server and redis-cli are needed for a local Sentinel")
    group = LocalSentinel(tmp_path_factory.mktemp("redis-sentinel-kill")).start()
    try:
        yield group
    finally:
        group.stop()


async def _flow(group: LocalSentinel, trigger: Any) -> dict[str, Any]:
    """Calls from 4 clients (each with an idempotency key) while ``trigger`` makes the group
    fail over; until 1.5 s after the sentinel names a new primary."""
    from toolwire.state.redis import RedisBackend

    runs: collections.Counter[str] = collections.Counter()
    answers: collections.Counter[str] = collections.Counter()

    @tw.tool(policy=tw.Policy(breaker=tw.Breaker(), rate_limit=tw.RateLimit(rate=100_000)))
    async def charge(order: str) -> str:
        runs[order] += 1
        await asyncio.sleep(0.005)
        return order

    backend = RedisBackend(group.url, prefix=f"twsf:{uuid.uuid4().hex[:8]}:")
    box = tw.Toolbox([charge], runtime=Executor(backend=backend))
    stop = asyncio.Event()

    async def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            key = f"{n}-{i}"
            i += 1
            res = await asyncio.wait_for(
                box.call("charge", {"order": key}, idempotency_key=key), 30
            )
            answers["ok" if res.ok else (res.error.kind if res.error else "?")] += 1

    try:
        old = group.primary()
        clients = [asyncio.ensure_future(client(n)) for n in range(4)]
        await asyncio.sleep(0.5)
        await asyncio.to_thread(trigger, old)
        give_up = time.monotonic() + 30
        new = old
        while time.monotonic() < give_up:
            new = await asyncio.to_thread(group.primary)
            if new not in (old, -1):
                break
            await asyncio.sleep(0.05)
        assert new != old, "the sentinel did not fail over in 30 s"
        before = answers["ok"]
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*clients), 40)
        served_by = int((await backend.client.connection_pool.get_master_address())[1])
    finally:
        await backend.aclose()
    print(f"\nsentinel failover {old} -> {new}: {dict(answers)}, {before} ok by the promotion")
    return {"answers": answers, "runs": runs, "before": before, "new": new, "by": served_by}


@pytest.mark.slow
async def test_calls_continue_across_a_sentinel_failover(sentinel: LocalSentinel) -> None:
    seen = await _flow(sentinel, lambda old: sentinel.failover())
    assert seen["by"] == seen["new"]
    assert seen["answers"]["ok"] > seen["before"]  # calls went on after the failover
    assert set(seen["answers"]) == {"ok"}, dict(seen["answers"])  # none refused meanwhile
    assert all(n == 1 for n in seen["runs"].values())


@pytest.mark.slow
async def test_calls_wait_out_a_killed_primary(sentinel_to_kill: LocalSentinel) -> None:
    """SIGKILL of the primary: the sentinel sees it down after 1 s and promotes the replica;
    meanwhile the calls wait (``failover_wait``) instead of being refused."""
    seen = await _flow(sentinel_to_kill, sentinel_to_kill.servers.kill)
    assert seen["by"] == seen["new"]
    assert seen["answers"]["ok"] > seen["before"]
    assert set(seen["answers"]) == {"ok"}, dict(seen["answers"])
    assert all(n == 1 for n in seen["runs"].values())
