"""A Redis Cluster primary SIGKILLed while calls flow: its replica is promoted, and no call is
lost, refused or run twice.

The calls go through a Toolbox on the Redis backend: a non-idempotent tool called with an
idempotency key each, under a breaker and a rate limit that must never trip (the tool never
fails, the rate is far above the load). Every call's keys hash to the tool's slot, whose
primary is the one killed. A client whose call is refused retries it with the same key, as a
real client would; a finished key is sent again to check the record survived the failover.
The figures are printed (``-s``); RELIABILITY.md quotes them.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_nodes import LocalCluster, binaries_present
from service_checks import need

import toolwire as tw
from toolwire.runtime import Executor

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WORKERS = 8
BEFORE_S = 1.0  # calls flowing before the kill
AFTER_S = 1.5  # and after the slot is served again
CALL_LIMIT_S = 30.0  # a call with no answer by then is lost


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    need(binaries_present(), "redis-server and redis-cli are needed for a local Redis Cluster")
    nodes = LocalCluster(tmp_path_factory.mktemp("redis-failover"), node_timeout_ms=1000)
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


class Load:
    """Calls of ``charge`` from ``WORKERS`` clients, and what came back."""

    def __init__(self, box: tw.Toolbox) -> None:
        self.box = box
        self.runs: collections.Counter[str] = collections.Counter()
        self.answers: collections.Counter[str] = collections.Counter()  # ok / error kind
        self.lost = 0
        self.lost_how: list[str] = []  # each lost call: what it ended in, and when
        self.mismatched = 0  # a repeated key answered with another value than the first
        self.ok_at: list[tuple[float, float]] = []  # (started, answered) of each ok call
        self.stop = asyncio.Event()
        self._ids = itertools.count()

    async def one(self, key: str) -> tw.ToolResult | None:
        started = time.monotonic()
        try:
            res = await asyncio.wait_for(
                self.box.call("charge", {"order": key}, idempotency_key=key), CALL_LIMIT_S
            )
        except Exception as exc:  # no answer at all (a hang or an exception out of call())
            self.lost += 1
            took = time.monotonic() - started
            self.lost_how.append(f"{key}: {type(exc).__name__} {exc!r:.200} after {took:.2f} s")
            return None
        self.answers["ok" if res.ok else (res.error.kind if res.error else "?")] += 1
        if res.ok:
            self.ok_at.append((started, time.monotonic()))
        return res

    async def client(self) -> None:
        while not self.stop.is_set():
            key = f"order-{next(self._ids)}"
            res = await self.one(key)
            while res is not None and not res.ok and not self.stop.is_set():
                await asyncio.sleep(0.05)  # refused: the client retries the same key
                res = await self.one(key)
            if res is not None and res.ok:
                again = await self.one(key)  # a duplicate after the answer
                if again is not None and again.ok and again.value != res.value:
                    self.mismatched += 1


async def test_primary_killed_mid_run_loses_and_duplicates_nothing(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    from toolwire.state.redis import RedisBackend

    load: Load
    policy = tw.Policy(
        breaker=tw.Breaker(window=20, min_calls=10, failure_rate=0.5, open_for=30.0),
        rate_limit=tw.RateLimit(rate=100_000, per=1.0),
    )

    @tw.tool(policy=policy)
    async def charge(order: str) -> str:
        load.runs[order] += 1
        await asyncio.sleep(0.005)
        return f"{order} charged (run {load.runs[order]})"

    backend = RedisBackend(cluster.url, prefix=f"tfo:{uuid.uuid4().hex[:8]}:")
    box = tw.Toolbox([charge], runtime=Executor(backend=backend))
    load = Load(box)
    try:
        slot = int(await backend.client.execute_command("CLUSTER KEYSLOT", "{charge}"))
        victim = await asyncio.to_thread(cluster.primary_of, slot)
        clients = [asyncio.ensure_future(load.client()) for _ in range(WORKERS)]
        await asyncio.sleep(BEFORE_S)
        before = sum(load.answers.values())
        await asyncio.to_thread(cluster.kill, victim)
        killed_at = time.monotonic()
        promoted = None
        while time.monotonic() < killed_at + 30:
            if await asyncio.to_thread(cluster.primary_of, slot) != victim:
                promoted = time.monotonic() - killed_at
                break
            await asyncio.sleep(0.05)
        assert promoted is not None, "the replica was not promoted in 30 s"
        await asyncio.sleep(AFTER_S)
        load.stop.set()
        await asyncio.wait_for(asyncio.gather(*clients), CALL_LIMIT_S + 5)
    finally:
        await backend.aclose()

    first_after = min(done for started, done in load.ok_at if started >= killed_at)
    duplicated = sum(1 for n in load.runs.values() if n > 1)
    wrong = load.answers["rate_limited"] + load.answers["circuit_open"]
    print(
        f"\nfailover: {WORKERS} clients, {before} answers before the kill, "
        f"{sum(load.answers.values())} in all ({dict(load.answers)}), {len(load.runs)} keys; "
        f"replica promoted {promoted:.2f} s after the kill; first ok call started after the "
        f"kill answered {first_after - killed_at:.2f} s after it; lost {load.lost}, "
        f"duplicated {duplicated}, wrong breaker/rate decisions {wrong}, "
        f"mismatched repeats {load.mismatched}"
    )
    assert load.lost == 0, load.lost_how
    assert duplicated == 0, {k: n for k, n in load.runs.items() if n > 1}
    assert load.mismatched == 0
    assert wrong == 0, dict(load.answers)
    # the calls waited for the failover instead of failing
    assert set(load.answers) == {"ok"}, dict(load.answers)
    assert load.answers["ok"] > before
