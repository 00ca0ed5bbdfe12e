"""The task store contract, on both stores (memory, Redis): what each atomic step promises."""

from __future__ import annotations

import asyncio

import pytest
from tasks_fixtures import redis_prefix_fixture, store_fixture  # noqa: F401

from toolwire.state._tasks import (
    NewTask,
    TaskKeyReused,
    TaskLimitReached,
    TaskProgress,
    TaskStore,
)

pytestmark = pytest.mark.anyio


def new(task_id: str, **overrides: object) -> NewTask:
    fields: dict[str, object] = {
        "id": task_id,
        "tool": "build",
        "owner": "alice",
        "scopes": ("reports",),
        "arguments": '{"year": 2025}',
        "arguments_digest": "d1",
        "result_ttl": 60.0,
    }
    fields.update(overrides)
    return NewTask(**fields)  # type: ignore[arg-type]


async def test_create_get_and_the_stored_fields(store: TaskStore) -> None:
    record, created = await store.create(new("t1", idempotency_key=None), max_active=None)
    assert created and record.status == "working" and record.runs == 0
    got = await store.get("t1")
    assert got is not None
    assert (got.tool, got.owner, got.scopes, got.arguments) == (
        "build",
        "alice",
        ("reports",),
        '{"year": 2025}',
    )
    assert got.status == "working" and got.result is None and got.progress is None
    assert got.created_at == pytest.approx(record.created_at, abs=0.01)
    assert await store.get("nope") is None


async def test_a_claim_grants_each_task_to_one_runner(store: TaskStore) -> None:
    for i in range(5):
        await store.create(new(f"t{i}"), max_active=None)
    first, second = await asyncio.gather(
        store.claim("w1", count=3, lease=30, wait=0.1),
        store.claim("w2", count=3, lease=30, wait=0.1),
    )
    ids = [c.record.id for c in first + second]
    assert sorted(ids) == [f"t{i}" for i in range(5)]  # each once
    assert all(c.runs == 0 for c in first + second)
    assert all(c.record.runner in ("w1", "w2") for c in first + second)
    assert await store.claim("w3", count=5, lease=30, wait=0.05) == []


async def test_an_expired_lease_is_claimed_again_with_the_runs_counted(store: TaskStore) -> None:
    await store.create(new("t1"), max_active=None)
    [claim] = await store.claim("w1", count=1, lease=0.2, wait=0.5)
    assert claim.runs == 0
    assert await store.claim("w2", count=1, lease=0.2, wait=0.05) == []  # still held
    await asyncio.sleep(0.3)
    again: list = []
    for _ in range(50):  # the Redis store looks for expired leases every lease / 2
        again = await store.claim("w2", count=1, lease=0.2, wait=0.05)
        if again:
            break
        await asyncio.sleep(0.05)
    assert [c.runs for c in again] == [1]
    assert again[0].record.runner == "w2"
    assert await store.renew("w2", ["t1"], 30) == {"t1"}
    assert await store.renew("w1", ["t1"], 30) == set()  # w1 lost it


async def test_renewing_keeps_a_task_from_being_taken(store: TaskStore) -> None:
    await store.create(new("t1"), max_active=None)
    assert len(await store.claim("w1", count=1, lease=0.3, wait=0.5)) == 1
    for _ in range(6):
        await asyncio.sleep(0.1)
        assert await store.renew("w1", ["t1"], 0.3) == {"t1"}
        assert await store.claim("w2", count=1, lease=0.3, wait=0) == []


async def test_progress_and_events_in_order(store: TaskStore) -> None:
    record, _ = await store.create(new("t1"), max_active=None)
    await store.claim("w1", count=1, lease=30, wait=0.5)
    for i in range(3):
        assert await store.report("t1", "w1", TaskProgress(done=i, total=3, message=f"m{i}"))
    assert not await store.report("t1", "w2", TaskProgress(done=9))  # not the runner
    events = await store.events("t1", None, wait=0.5)
    assert [e.kind for e in events] == ["progress"] * 3
    assert [e.progress.done for e in events if e.progress] == [0, 1, 2]
    got = await store.get("t1")
    assert got is not None and got.progress == TaskProgress(done=2, total=3, message="m2")
    later = await store.events("t1", events[1].id, wait=0.5)
    assert [e.id for e in later] == [events[2].id]
    assert await store.events("t1", events[2].id, wait=0.05) == []  # waited, nothing new
    ended = await store.finish(record, "completed", b'{"ok": true}')
    assert ended is not None and ended.status == "completed" and ended.expires_at is not None
    [end] = await store.events("t1", events[2].id, wait=0.5)
    assert end.kind == "end" and end.status == "completed"
    assert not await store.report("t1", "w1", TaskProgress(done=3))  # ended


async def test_a_waiting_watcher_wakes_for_a_new_event(store: TaskStore) -> None:
    await store.create(new("t1"), max_active=None)
    await store.claim("w1", count=1, lease=30, wait=0.5)
    waiting = asyncio.ensure_future(store.events("t1", None, wait=5.0))
    await asyncio.sleep(0.1)
    await store.report("t1", "w1", TaskProgress(done=1))
    async with asyncio.timeout(5):
        events = await waiting
    assert [e.kind for e in events] == ["progress"]


async def test_the_first_ending_wins(store: TaskStore) -> None:
    record, _ = await store.create(new("t1"), max_active=None)
    await store.claim("w1", count=1, lease=30, wait=0.5)
    cancelled = await store.cancel(record, b'{"cancelled": true}')
    assert cancelled is not None and cancelled.status == "cancelled"
    late = await store.finish(record, "completed", b'{"late": true}')
    assert late is not None and late.status == "cancelled"
    assert late.result == b'{"cancelled": true}'
    again = await store.cancel(record, b"{}")
    assert again is not None and again.status == "cancelled"
    assert await store.renew("w1", ["t1"], 30) == set()


async def test_cancelling_a_queued_task_means_it_never_runs(store: TaskStore) -> None:
    record, _ = await store.create(new("t1"), max_active=None)
    await store.cancel(record, b"{}")
    assert await store.claim("w1", count=5, lease=30, wait=0.05) == []


async def test_idempotency_key_same_task_or_conflict(store: TaskStore) -> None:
    _, created = await store.create(new("t1", idempotency_key="k"), max_active=None)
    again, created_again = await store.create(new("t2", idempotency_key="k"), max_active=None)
    assert created and not created_again and again.id == "t1"
    with pytest.raises(TaskKeyReused) as info:
        await store.create(new("t3", idempotency_key="k", arguments_digest="d2"), max_active=None)
    assert info.value.task_id == "t1"
    # keys are per owner and per tool
    other, made = await store.create(new("t4", idempotency_key="k", owner="bob"), max_active=None)
    assert made and other.id == "t4"
    tool2, made2 = await store.create(new("t5", idempotency_key="k", tool="other"), max_active=None)
    assert made2 and tool2.id == "t5"


async def test_the_working_limit_per_owner(store: TaskStore) -> None:
    a, _ = await store.create(new("t1"), max_active=2)
    await store.create(new("t2"), max_active=2)
    with pytest.raises(TaskLimitReached) as info:
        await store.create(new("t3"), max_active=2)
    assert (info.value.active, info.value.limit) == (2, 2)
    await store.create(new("t4", owner="bob"), max_active=2)  # someone else's limit
    await store.finish(a, "completed", b"{}")
    await store.create(new("t5"), max_active=2)  # room again


async def test_pages_newest_first_per_owner(store: TaskStore) -> None:
    for i in range(7):
        await store.create(new(f"t{i}"), max_active=None)
        await asyncio.sleep(0.002)
    await store.create(new("bobs", owner="bob"), max_active=None)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        records, cursor = await store.page("alice", limit=3, cursor=cursor)
        seen += [r.id for r in records]
        if cursor is None:
            break
    assert seen == [f"t{i}" for i in reversed(range(7))]
    assert [r.id for r in (await store.page("bob", limit=10, cursor=None))[0]] == ["bobs"]
    with pytest.raises(ValueError):
        await store.page("alice", limit=3, cursor="garbage")


async def test_a_finished_task_expires_after_its_ttl(store: TaskStore) -> None:
    record, _ = await store.create(new("t1", result_ttl=0.2), max_active=None)
    await store.finish(record, "completed", b"{}")
    assert await store.get("t1") is not None
    await asyncio.sleep(0.35)
    assert await store.get("t1") is None
    assert (await store.page("alice", limit=10, cursor=None))[0] == []


async def test_release_hands_a_task_to_another_runner_at_once(store: TaskStore) -> None:
    await store.create(new("t1"), max_active=None)
    await store.claim("w1", count=1, lease=30, wait=0.5)
    await store.release("t1", "w1")
    again = await store.claim("w2", count=1, lease=30, wait=0.5)
    assert [(c.record.id, c.runs) for c in again] == [("t1", 1)]


async def test_snapshot_gives_the_record_and_the_last_event(store: TaskStore) -> None:
    await store.create(new("t1"), max_active=None)
    record, last = await store.snapshot("t1")
    assert record is not None and last is None
    await store.claim("w1", count=1, lease=30, wait=0.5)
    await store.report("t1", "w1", TaskProgress(done=1))
    [event] = await store.events("t1", None, wait=0.5)
    assert (await store.snapshot("t1"))[1] == event.id
    assert await store.snapshot("nope") == (None, None)
