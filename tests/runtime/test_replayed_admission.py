"""A step replayed after its reply was lost keeps the claims it took the first time.

A Redis primary can run a call's admission script, replicate it and die before its reply
reaches the caller (a failover, or any connection that drops mid-reply); the backend then
sends the same step again, under the same owner, to the server that took over. That replay
must find the fill lock and the pending idempotency record it took as its own. Before this
was fixed it found them "taken by another call" and waited for its own claim's lease (300 s
for a tool with no timeout): the one call the Redis Cluster failover test lost under load.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from runtime_fixtures import close_backend, redis_prefix_fixture  # noqa: F401

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state import CallPlan
from toolwire.state.redis import RedisBackend

pytestmark = pytest.mark.anyio

ANSWER_S = 10.0  # a call that waits for its own claim takes the lease: 300 s here


async def test_an_admission_sent_twice_by_one_owner_keeps_its_claims(
    redis_url: str, redis_prefix: str
) -> None:
    backend = RedisBackend(redis_url, prefix=redis_prefix)
    plan = CallPlan(owner="call-1", lease=30.0, cache_key="c1", idem_key="k1")
    try:
        first = await backend.admit(plan)
        again = await backend.admit(plan)  # the same step, its first reply lost
        other = await backend.admit(CallPlan(owner="call-2", lease=30.0, idem_key="k1"))
    finally:
        await close_backend(backend, redis_prefix)
    assert (first.stop, first.cache_locked, first.idem_claimed) == (None, True, True)
    assert (again.stop, again.cache_locked, again.idem_claimed) == (None, True, True)
    assert other.stop == "idem_pending"  # still a claim to every other call


async def test_the_policy_by_policy_steps_sent_twice_keep_their_claims(
    redis_url: str, redis_prefix: str
) -> None:
    """The steps a cluster takes one by one when a call's keys live in several slots."""
    backend = RedisBackend(redis_url, prefix=redis_prefix)
    try:
        lock = [await backend.cache_get_or_lock("c1", "call-1", 30.0) for _ in range(2)]
        lock_other = await backend.cache_get_or_lock("c1", "call-2", 30.0)
        claim = [(await backend.idem_begin("k1", "call-1", 30.0)).status for _ in range(2)]
        claim_other = (await backend.idem_begin("k1", "call-2", 30.0)).status
    finally:
        await close_backend(backend, redis_prefix)
    assert lock == [(None, True), (None, True)]
    assert lock_other == (None, False)
    assert claim == ["new", "new"]
    assert claim_other == "pending"


async def test_a_call_whose_admission_reply_was_lost_runs_once_and_answers(
    redis_url: str, redis_prefix: str
) -> None:
    """End to end: Redis runs the admission, then the connection drops before its reply (as
    when a primary dies right after replicating); the backend sends it again."""
    backend = RedisBackend(redis_url, prefix=redis_prefix)
    runs: list[str] = []

    @tw.tool
    async def charge(order: str) -> str:
        runs.append(order)
        return f"{order} charged"

    box = tw.Toolbox([charge], runtime=Executor(backend=backend))
    real = backend.client.evalsha
    admit_sha = backend._scripts._objects["admit"].sha
    dropped: list[str] = []

    async def reply_lost_once(sha: str, *args: Any) -> Any:
        out = await real(sha, *args)
        if sha == admit_sha and not dropped:
            dropped.append(sha)
            raise RedisConnectionError("Connection closed by server.")
        return out

    backend.client.evalsha = reply_lost_once
    try:
        res = await asyncio.wait_for(
            box.call("charge", {"order": "o-1"}, idempotency_key="o-1"), ANSWER_S
        )
        repeat = await asyncio.wait_for(
            box.call("charge", {"order": "o-1"}, idempotency_key="o-1"), ANSWER_S
        )
    finally:
        await box.runtime.aclose()
        await close_backend(backend, redis_prefix)
    assert dropped, "the admission's reply was never dropped: the test did not test"
    assert res.ok, res.error
    assert repeat.ok and repeat.value == res.value
    assert runs == ["o-1"]


async def test_a_repeat_admitted_while_the_first_calls_record_is_on_its_way_waits_for_it(
    redis_url: str, redis_prefix: str
) -> None:
    """Two calls of one executor with one key, the repeat admitted while the first call's
    written-behind record is still on its way to Redis (late, as a cluster node may be): the
    first call's pending claim is not the repeat's own, so the repeat waits for the record,
    and the tool runs once."""
    backend = RedisBackend(redis_url, prefix=redis_prefix)
    runs: list[str] = []
    real_settle, real_admit = backend.settle_many, backend.admit
    on_its_way = asyncio.Event()
    asked: list[str | None] = []  # the idempotency key of every admission sent to Redis

    async def late(writes: Any) -> Any:
        on_its_way.set()
        await asyncio.sleep(0.3)
        return await real_settle(writes)

    async def admit(plan: CallPlan) -> Any:
        asked.append(plan.idem_key)
        return await real_admit(plan)

    @tw.tool
    async def charge(order: str) -> str:
        runs.append(order)
        return f"{order} charged"

    backend.settle_many = late  # type: ignore[method-assign]
    backend.admit = admit  # type: ignore[method-assign]
    box = tw.Toolbox([charge], runtime=Executor(backend=backend))
    try:
        first = await asyncio.wait_for(
            box.call("charge", {"order": "o-2"}, idempotency_key="o-2"), ANSWER_S
        )
        await asyncio.wait_for(on_its_way.wait(), ANSWER_S)
        repeat = await asyncio.wait_for(
            box.call("charge", {"order": "o-2"}, idempotency_key="o-2"), ANSWER_S
        )
    finally:
        await box.runtime.aclose()
        await close_backend(backend, redis_prefix)
    assert len(asked) >= 2, asked  # the repeat asked Redis, not this process's queue
    assert first.ok and repeat.ok, (first.error, repeat.error)
    assert repeat.value == first.value
    assert runs == ["o-2"]
