"""Tasks across ``toolwire serve`` replicas sharing a private Redis (AOF, fsync always):

- the replica running a task is SIGKILLed mid-run: after its lease another replica takes the
  task over — a non-idempotent tool's task ends ``failed`` (``interrupted``) without a second
  start, an idempotent tool's is run again and completes; every replica serves the same state;
- Redis is killed and restarted mid-task: the task completes, started once;
- cancellation racing completion, across replicas: one ending each, the same everywhere;
- 1,000 concurrent short tasks started through two replicas: none lost, none run twice;
- a caller fetching another caller's task through another replica: 404.

Every process is killed when its context ends; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tasks_serve import (
    ALICE_KEY,
    BOB_KEY,
    PrivateRedis,
    Replica,
    config,
    headers,
    private_redis,
    replicas,
    runs,
    starters,
)

# three `toolwire serve` processes per test: 5-18 s of setup each (pytest -m slow)
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

LEASE = 2.0
TIMEOUT = aiohttp.ClientTimeout(total=30)


def tasks_config(redis: PrivateRedis, **extra: Any) -> str:
    tasks = f"lease = {LEASE}\nmax_per_caller = 5000\nworkers = 64\n"
    tasks += "".join(f"{k} = {v}\n" for k, v in extra.items())
    return config(redis_url=redis.url, prefix=f"rep:{uuid.uuid4().hex[:8]}:", tasks=tasks)


@pytest.fixture(name="cluster")
def cluster_fixture(tmp_path: Path) -> Iterator[tuple[PrivateRedis, list[Replica], Path]]:
    log = tmp_path / "runs.log"
    with (
        private_redis(tmp_path / "redis") as redis,
        replicas(tmp_path, tasks_config(redis), 3, log=log, grpc=False) as started,
    ):
        yield redis, started, log


async def start(
    http: aiohttp.ClientSession, base: str, tool: str, args: Any, key: str = ALICE_KEY
) -> str:
    async with http.post(f"{base}/v1/tools/{tool}/tasks", json=args, headers=headers(key)) as r:
        body = await r.json()
        assert r.status == 202, body
        return str(body["task_id"])


async def get(http: aiohttp.ClientSession, base: str, task_id: str, key: str = ALICE_KEY) -> Any:
    async with http.get(f"{base}/v1/tasks/{task_id}", headers=headers(key)) as r:
        return r.status, await r.json()


async def settled(http: aiohttp.ClientSession, base: str, task_id: str, limit: float = 60) -> Any:
    async with asyncio.timeout(limit):
        while True:
            status, task = await get(http, base, task_id)
            if status == 200 and task["status"] != "working":
                return task
            await asyncio.sleep(0.1)


async def started_by(log: Path, task_id: str, times: int = 1, limit: float = 30) -> list[int]:
    """The pids that started ``task_id``, once it was started ``times`` times."""
    async with asyncio.timeout(limit):
        while runs(log)[task_id] < times:  # noqa: ASYNC110 - the tools' log file
            await asyncio.sleep(0.02)
    return starters(log, task_id)


def by_pid(nodes: list[Replica], pid: int) -> Replica:
    return next(r for r in nodes if r.proc.pid == pid)


async def test_sigkill_mid_task_a_non_idempotent_task_is_not_run_twice(
    cluster: tuple[PrivateRedis, list[Replica], Path],
) -> None:
    _, nodes, log = cluster
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        task_id = await start(http, nodes[0].base, "work", {"steps": 400, "delay": 0.05})
        [pid] = await started_by(log, task_id)
        runner = by_pid(nodes, pid)
        runner.kill()
        alive = [r for r in nodes if r is not runner]
        task = await settled(http, alive[0].base, task_id)
        assert task["status"] == "failed"
        assert task["result"]["error"]["details"]["reason"] == "interrupted"
        assert runs(log)[task_id] == 1  # never started again
        # every surviving replica serves the same ending
        for node in alive:
            status, same = await get(http, node.base, task_id)
            assert status == 200 and same == task


async def test_sigkill_mid_task_an_idempotent_task_is_taken_over(
    cluster: tuple[PrivateRedis, list[Replica], Path],
) -> None:
    _, nodes, log = cluster
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        task_id = await start(http, nodes[1].base, "work_idem", {"steps": 60, "delay": 0.05})
        [pid] = await started_by(log, task_id)
        runner = by_pid(nodes, pid)
        watcher = next(r for r in nodes if r is not runner)
        events = asyncio.ensure_future(_sse(http, watcher.base, task_id))
        await asyncio.sleep(0.3)
        runner.kill()
        pids = await started_by(log, task_id, times=2)
        assert pids[0] == pid and pids[1] != pid  # run again, elsewhere
        task = await settled(http, watcher.base, task_id)
        assert task["status"] == "completed"
        assert task["result"]["value"] == {"steps": 60, "pid": pids[1]}
        seen = await asyncio.wait_for(events, 60)
        # the watcher on a third replica saw progress from both runs, then the end
        assert seen[-1][0] == "end" and seen[-1][1]["status"] == "completed"
        assert sum(1 for kind, _ in seen if kind == "progress") >= 2
        for node in nodes:
            if node is not runner:
                assert (await get(http, node.base, task_id))[1] == task


async def _sse(http: aiohttp.ClientSession, base: str, task_id: str) -> list[tuple[str, Any]]:
    import json

    out: list[tuple[str, Any]] = []
    url = f"{base}/v1/tasks/{task_id}/events"
    async with http.get(
        url, headers=headers(ALICE_KEY), timeout=aiohttp.ClientTimeout(total=90)
    ) as r:
        assert r.status == 200
        event = "message"
        async for raw in r.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                out.append((event, json.loads(line[6:])))
                if event == "end":
                    break
    return out


async def test_redis_restarted_mid_task(cluster: tuple[PrivateRedis, list[Replica], Path]) -> None:
    redis, nodes, log = cluster
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        task_id = await start(http, nodes[2].base, "work", {"steps": 60, "delay": 0.05})
        await started_by(log, task_id)
        await asyncio.sleep(0.3)
        redis.stop()  # SIGKILL: every write so far is in the AOF (fsync always)
        await asyncio.sleep(0.5)
        async with http.get(f"{nodes[0].base}/v1/tasks/{task_id}", headers=headers(ALICE_KEY)) as r:
            assert r.status == 503 and r.headers.get("Retry-After")  # unreachable store
        await asyncio.to_thread(redis.start)
        task = await settled(http, nodes[0].base, task_id)
        assert task["status"] == "completed", task
        assert task["result"]["value"]["steps"] == 60
        assert runs(log)[task_id] == 1  # the outage was shorter than the lease: one run
        # a task started after the restart runs too
        after = await start(http, nodes[1].base, "noop", {})
        assert (await settled(http, nodes[2].base, after))["status"] == "completed"


async def test_cancellation_racing_completion_across_replicas(
    cluster: tuple[PrivateRedis, list[Replica], Path],
) -> None:
    _, nodes, log = cluster
    rng = random.Random(11)
    endings: dict[str, int] = {"cancelled": 0, "completed": 0}
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        for i in range(40):
            here, there = nodes[i % 3], nodes[(i + 1) % 3]
            task_id = await start(
                http, here.base, "work", {"steps": 1, "delay": rng.random() * 0.05}
            )
            await asyncio.sleep(rng.random() * 0.06)
            async with http.delete(
                f"{there.base}/v1/tasks/{task_id}", headers=headers(ALICE_KEY)
            ) as r:
                assert r.status == 200
                said = await r.json()
            final = await settled(http, nodes[(i + 2) % 3].base, task_id)
            assert final["status"] == said["status"] or said["status"] == "working"
            assert final["status"] in ("cancelled", "completed")
            for node in nodes:
                assert (await get(http, node.base, task_id))[1]["status"] == final["status"]
            if final["status"] == "completed":
                assert final["result"]["ok"] is True
            else:
                assert final["result"]["error"]["kind"] == "cancelled"
            assert runs(log)[task_id] <= 1
            endings[final["status"]] += 1
    print(f"cancel racing completion: {endings}")


async def test_a_thousand_concurrent_tasks_through_two_replicas(
    cluster: tuple[PrivateRedis, list[Replica], Path],
) -> None:
    _, nodes, log = cluster
    connector = aiohttp.TCPConnector(limit=64)
    began = time.monotonic()
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector) as http:
        ids = await asyncio.gather(
            *(start(http, nodes[i % 2].base, "noop", {}, BOB_KEY) for i in range(1000))
        )
        assert len(set(ids)) == 1000
        done: dict[str, Any] = {}
        async with asyncio.timeout(180):
            while len(done) < 1000:
                url = f"{nodes[2].base}/v1/tasks?limit=1000"
                async with http.get(url, headers=headers(BOB_KEY)) as r:
                    page = await r.json()
                done = {t["task_id"]: t for t in page["tasks"] if t["status"] != "working"}
                if len(done) < 1000:
                    await asyncio.sleep(0.5)
    assert set(done) == set(ids)
    assert all(t["status"] == "completed" and t["result"]["value"] == "ok" for t in done.values())
    assert all(t["result"]["call_id"] == i for i, t in done.items())
    counts = runs(log)
    assert all(counts[i] == 1 for i in ids)  # none lost, none run twice
    print(f"1,000 tasks through two replicas: all ended in {time.monotonic() - began:.1f} s")


async def test_another_callers_task_is_refused_on_every_replica(
    cluster: tuple[PrivateRedis, list[Replica], Path],
) -> None:
    _, nodes, _ = cluster
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        task_id = await start(http, nodes[0].base, "work", {"steps": 2, "delay": 0.01})
        for node in nodes:
            status, body = await get(http, node.base, task_id, BOB_KEY)
            assert status == 404 and body["error"]["details"]["reason"] == "unknown_task"
            async with http.delete(
                f"{node.base}/v1/tasks/{task_id}", headers=headers(BOB_KEY)
            ) as r:
                assert r.status == 404
        assert (await settled(http, nodes[1].base, task_id))["status"] == "completed"
