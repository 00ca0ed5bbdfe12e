"""``Toolbox.start`` and ``Tasks`` on both stores: lifecycle, progress, cancellation, scoping,
limits, idempotency, the tool's policies on the run, and what runs again after a runner dies
(a crash is simulated by tearing a worker down without letting it record anything)."""

from __future__ import annotations

import asyncio
import collections
import random
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tasks_fixtures import redis_prefix_fixture, store_fixture  # noqa: F401

import toolwire as tw
from toolwire.runtime._tasks import Tasks, UnknownTask
from toolwire.state._tasks import Claim, TaskStore
from toolwire.state._tasks_memory import MemoryTaskStore

pytestmark = pytest.mark.anyio

STARTS: collections.Counter[str] = collections.Counter()
LIVE = {"now": 0, "most": 0}


@tw.tool(task_support="optional")
async def steps(n: int, ctx: tw.Context, delay: float = 0.01) -> int:
    """Report each of ``n`` steps; returns ``n``."""
    STARTS[ctx.call_id] += 1
    for i in range(n):
        await ctx.report_progress(i + 1, n, f"step {i + 1}")
        await asyncio.sleep(delay)
    return n


@tw.tool(task_support="optional", idempotent=True)
async def steps_idem(n: int, ctx: tw.Context, delay: float = 0.01) -> int:
    STARTS[ctx.call_id] += 1
    for i in range(n):
        await ctx.report_progress(i + 1, n)
        await asyncio.sleep(delay)
    return n


GATE = threading.Event()  # a held run ends once the test opens it (loop-agnostic)
STOPPED_AT: dict[str, float] = {}  # a held run's id -> when its run was stopped


@tw.tool(task_support="optional", idempotent=True)
async def held(ctx: tw.Context) -> str:
    """Run until the test opens ``GATE`` (a run that cannot end before a shutdown)."""
    STARTS[ctx.call_id] += 1
    try:
        while not GATE.is_set():  # noqa: ASYNC110 - a threading.Event, not an asyncio one
            await asyncio.sleep(0.01)
    except asyncio.CancelledError:
        STOPPED_AT[ctx.call_id] = time.monotonic()
        raise
    return "opened"


@tw.tool(task_support="required")
def sync_steps(n: int, ctx: tw.Context) -> str:
    """A sync tool in a worker thread reporting through ``ctx.progress``."""
    assert ctx.progress is not None and threading.current_thread() is not threading.main_thread()
    for i in range(n):
        ctx.progress(i + 1, n, None)
        time.sleep(0.005)
    return "done"


@tw.tool
def plain(x: int) -> int:
    return x


@tw.tool(task_support="optional", policy=tw.Policy(timeout=0.05))
async def too_slow() -> str:
    await asyncio.sleep(5)
    return "never"


FLAKY: collections.Counter[str] = collections.Counter()


@tw.tool(
    task_support="optional",
    idempotent=True,
    policy=tw.Policy(retry=tw.Retry(attempts=3, backoff=0.01, retry_on=("execution_error",))),
)
async def flaky(ctx: tw.Context) -> str:
    FLAKY[ctx.call_id] += 1
    if FLAKY[ctx.call_id] < 2:
        raise RuntimeError("first attempt fails")
    return "second time"


@tw.tool(task_support="optional", policy=tw.Policy(concurrency=1))
async def one_at_a_time() -> int:
    LIVE["now"] += 1
    LIVE["most"] = max(LIVE["most"], LIVE["now"])
    await asyncio.sleep(0.02)
    LIVE["now"] -= 1
    return LIVE["most"]


@tw.tool(task_support="optional")
async def noop() -> str:
    return "ok"


TOOLS = [steps, steps_idem, held, sync_steps, plain, too_slow, flaky, one_at_a_time, noop]
ALICE = tw.Caller(id="key:alice", scopes=frozenset({"user"}))
BOB = tw.Caller(id="key:bob", scopes=frozenset({"user"}))


def make(store: TaskStore, **options: Any) -> tuple[tw.Toolbox, Tasks]:
    tasks = Tasks(store, **options)
    return tw.Toolbox(TOOLS, tasks=tasks), tasks


@pytest.fixture(name="box")
async def box_fixture(store: TaskStore) -> AsyncIterator[tw.Toolbox]:
    box, tasks = make(store)
    try:
        yield box
    finally:
        async with asyncio.timeout(20):
            await tasks.aclose()


async def until(check: Callable[[], Any], limit: float = 10.0) -> None:
    """Poll ``check`` (bounded): the tools count their starts in a plain Counter."""
    async with asyncio.timeout(limit):
        while not await _value(check()):  # noqa: ASYNC110 - a counter, not an event
            await asyncio.sleep(0.01)


async def _value(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) else value


def crash(tasks: Tasks) -> None:
    """What a SIGKILL leaves behind: no end recorded, no lease given back, the run gone."""
    worker = tasks._worker
    worker._closing = True
    for loop_task in (worker._claimer, worker._renewer):
        if loop_task is not None:
            loop_task.cancel()
    for run in list(worker._running.values()):
        if run.task is not None:
            run.task.cancel()


async def test_lifecycle_progress_and_result(box: tw.Toolbox) -> None:
    handle = await box.start("steps", {"n": 3})
    first = await handle.status()
    assert first.status in ("working", "completed")
    updates = []
    async with asyncio.timeout(10):
        async for update in handle.watch():
            updates.append(update)
    assert updates[-1].kind == "end" and updates[-1].task.status == "completed"
    dones = [u.task.progress.done for u in updates if u.kind == "progress" and u.task.progress]
    assert dones == sorted(dones) and dones[-1] == 3
    async with asyncio.timeout(10):
        result = await handle.result()
    assert result.ok and result.value == 3 and result.call_id == handle.id
    shown = (await handle.status()).to_dict()
    assert set(shown) == {
        "task_id",
        "tool",
        "status",
        "progress",
        "result",
        "created_at",
        "updated_at",
    }
    assert shown["status"] == "completed" and shown["result"]["value"] == 3
    assert shown["progress"] == {"done": 3.0, "total": 3.0, "message": "step 3"}
    assert shown["created_at"].endswith("Z") and shown["created_at"] <= shown["updated_at"]
    assert STARTS[handle.id] == 1


async def test_a_sync_tool_reports_progress_from_its_thread(box: tw.Toolbox) -> None:
    handle = await box.start("sync_steps", {"n": 4})
    async with asyncio.timeout(10):
        result = await handle.result()
    assert result.value == "done"
    info = await handle.status()
    assert info.progress is not None and info.progress.done == 4


async def test_cancel_stops_the_run(box: tw.Toolbox) -> None:
    handle = await box.start("steps", {"n": 1000, "delay": 0.01})
    await until(lambda: STARTS[handle.id] == 1)
    info = await handle.cancel()
    assert info.status == "cancelled" and info.result is not None
    assert info.result.error is not None and info.result.error.kind == "cancelled"
    progress_then = (await handle.status()).progress
    await asyncio.sleep(0.2)
    later = await handle.status()
    assert later.status == "cancelled" and later.progress == progress_then  # it stopped
    again = await handle.cancel()  # cancelling an ended task changes nothing
    assert again.status == "cancelled"


async def test_a_finished_task_stays_finished_when_cancelled(box: tw.Toolbox) -> None:
    handle = await box.start("noop")
    async with asyncio.timeout(10):
        await handle.result()
    assert (await handle.cancel()).status == "completed"


async def test_a_caller_sees_only_its_own_tasks(box: tw.Toolbox) -> None:
    mine = await box.start("steps", {"n": 2}, caller=ALICE)
    tasks = box.tasks
    for attempt in (
        tasks.get(mine.id, caller=BOB),
        tasks.cancel(mine.id, caller=BOB),
        tasks.get(mine.id),  # the anonymous Python caller is someone else too
        tasks.get("task_" + "0" * 32, caller=ALICE),
    ):
        with pytest.raises(UnknownTask) as info:
            await attempt
        assert info.value.to_error().details["reason"] == "unknown_task"
    with pytest.raises(UnknownTask):
        async for _ in tasks.watch(mine.id, caller=BOB):
            pass
    assert [t.id for t in (await tasks.list(caller=BOB)).tasks] == []
    assert [t.id for t in (await tasks.list(caller=ALICE)).tasks] == [mine.id]
    assert (await tasks.get(mine.id, caller=ALICE)).tool == "steps"


async def test_what_cannot_start(box: tw.Toolbox) -> None:
    with pytest.raises(tw.ToolFailure) as forbidden:
        await box.start("plain", {"x": 1})
    assert forbidden.value.details["reason"] == "task_support_forbidden"
    with pytest.raises(tw.UnknownTool):
        await box.start("nope")
    with pytest.raises(tw.InvalidArguments):
        await box.start("steps", {"n": "many"})


async def test_an_idempotency_key_names_one_task(box: tw.Toolbox) -> None:
    first = await box.start("steps", {"n": 1}, idempotency_key="k1")
    again = await box.start("steps", {"n": 1}, idempotency_key="k1")
    assert again.id == first.id
    with pytest.raises(tw.ToolFailure) as reused:
        await box.start("steps", {"n": 2}, idempotency_key="k1")
    assert reused.value.details["reason"] == "idempotency_key_reused"
    async with asyncio.timeout(10):
        await first.result()
    assert STARTS[first.id] == 1


async def test_working_tasks_per_caller_are_limited(store: TaskStore) -> None:
    box, tasks = make(store, max_per_caller=2)
    try:
        a = await box.start("steps", {"n": 200}, caller=ALICE)
        await box.start("steps", {"n": 200}, caller=ALICE)
        with pytest.raises(tw.ToolFailure) as refused:
            await box.start("steps", {"n": 1}, caller=ALICE)
        assert refused.value.kind == "rate_limited" and refused.value.retry_after
        await box.start("steps", {"n": 1}, caller=BOB)
        await a.cancel()
        await box.start("steps", {"n": 1}, caller=ALICE)
    finally:
        async with asyncio.timeout(20):
            await tasks.aclose()


async def test_the_tools_policies_apply_to_the_run(box: tw.Toolbox) -> None:
    slow = await box.start("too_slow")
    retried = await box.start("flaky")
    limited = [await box.start("one_at_a_time") for _ in range(4)]
    async with asyncio.timeout(20):
        slow_result = await slow.result()
        retried_result = await retried.result()
        limited_results = [await h.result() for h in limited]
    assert slow_result.error is not None and slow_result.error.kind == "timeout"
    assert (await slow.status()).status == "failed"
    assert retried_result.ok and retried_result.attempts == 2
    assert all(r.ok and r.value == 1 for r in limited_results)  # never two at once


async def test_the_task_timeout_stops_a_long_run(store: TaskStore) -> None:
    box, tasks = make(store, timeout=0.2)
    try:
        handle = await box.start("steps", {"n": 1000})
        async with asyncio.timeout(10):
            result = await handle.result()
        assert result.error is not None and result.error.kind == "timeout"
    finally:
        async with asyncio.timeout(20):
            await tasks.aclose()


async def test_a_subset_starts_only_its_own_tools(box: tw.Toolbox) -> None:
    part = box.subset(["noop"])
    handle = await part.start("noop")
    async with asyncio.timeout(10):
        assert (await handle.result()).value == "ok"
    with pytest.raises(tw.UnknownTool):
        await part.start("steps", {"n": 1})


async def test_a_dead_runners_non_idempotent_task_is_not_run_again(store: TaskStore) -> None:
    box1, tasks1 = make(store, lease=0.3)
    handle = await box1.start("steps", {"n": 1000})
    await until(lambda: STARTS[handle.id] == 1)
    crash(tasks1)
    _, tasks2 = make(store, lease=0.3)
    try:
        await tasks2.run()
        async with asyncio.timeout(20):
            info = await tasks2.wait(handle.id)
        assert info.status == "failed" and info.result is not None and info.result.error
        assert info.result.error.details["reason"] == "interrupted"
        assert STARTS[handle.id] == 1  # never a second start
    finally:
        async with asyncio.timeout(20):
            await tasks2.aclose()


@pytest.mark.parametrize("how", ["idempotent tool", "idempotency key"])
async def test_a_dead_runners_repeatable_task_runs_again(store: TaskStore, how: str) -> None:
    box1, tasks1 = make(store, lease=0.3)
    if how == "idempotent tool":
        handle = await box1.start("steps_idem", {"n": 30, "delay": 0.02})
    else:
        handle = await box1.start("steps", {"n": 30, "delay": 0.02}, idempotency_key="again")
    await until(lambda: STARTS[handle.id] == 1)
    crash(tasks1)
    _, tasks2 = make(store, lease=0.3)
    try:
        await tasks2.run()
        async with asyncio.timeout(20):
            info = await tasks2.wait(handle.id)
        assert info.status == "completed" and info.result is not None
        assert info.result.value == 30
        assert STARTS[handle.id] == 2
    finally:
        async with asyncio.timeout(20):
            await tasks2.aclose()


async def test_a_task_whose_runners_keep_dying_stops_after_max_runs(store: TaskStore) -> None:
    handle_id = ""
    for n in range(3):
        box, tasks = make(store, lease=0.2, max_runs=2)
        if n == 0:
            handle_id = (await box.start("steps_idem", {"n": 1000})).id
        else:
            await tasks.run()
        if n < 2:
            await until(lambda n=n, task=handle_id: STARTS[task] == n + 1)
            crash(tasks)
            continue
        try:
            async with asyncio.timeout(20):
                info = await tasks.wait(handle_id)
            assert info.status == "failed" and info.result is not None and info.result.error
            assert info.result.error.details["reason"] == "interrupted"
            assert STARTS[handle_id] == 2
        finally:
            async with asyncio.timeout(20):
                await tasks.aclose()


async def test_shutdown_hands_repeatable_tasks_over_and_ends_the_others(
    store: TaskStore,
) -> None:
    GATE.clear()  # the repeatable run cannot end before the shutdown stops it
    box1, tasks1 = make(store, lease=30, shutdown_grace=0.1)
    idem = await box1.start("held")
    once = await box1.start("steps", {"n": 1000})
    await until(lambda: STARTS[idem.id] == 1 and STARTS[once.id] == 1)
    async with asyncio.timeout(20):
        await tasks1.aclose()
    GATE.set()  # its second run, on the next process, ends
    _, tasks2 = make(store, lease=30)
    try:
        await tasks2.run()
        async with asyncio.timeout(20):  # without waiting out the 30 s lease
            handed = await tasks2.wait(idem.id)
            ended = await tasks2.wait(once.id)
        assert handed.status == "completed" and STARTS[idem.id] == 2, (
            f"the repeatable task ended {handed.status} after {STARTS[idem.id]} start(s), "
            "not completed by a second start on the next process"
        )
        assert ended.status == "failed" and ended.result and ended.result.error
        assert ended.result.error.details["reason"] == "interrupted"
    finally:
        async with asyncio.timeout(20):
            await tasks2.aclose()


class _SlowToCancelStore(MemoryTaskStore):
    """A claim that misses a cancellation and answers when its blocking wait ends (as a
    blocking read on Redis Cluster did on a loaded host); records when that was."""

    claim_ended_at: float | None = None

    async def claim(self, worker: str, *, count: int, lease: float, wait: float) -> list[Claim]:
        call = asyncio.ensure_future(super().claim(worker, count=count, lease=lease, wait=wait))
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            claims = await call
            self.claim_ended_at = time.monotonic()
            return claims


async def test_shutdown_stops_runs_after_the_grace_not_after_the_claim_loop() -> None:
    GATE.clear()
    store = _SlowToCancelStore()
    box, tasks = make(store, lease=30, shutdown_grace=0.1)
    handle = await box.start("held")
    await until(lambda: STARTS[handle.id] == 1)
    began = time.monotonic()
    async with asyncio.timeout(20):
        await tasks.aclose()
    GATE.set()
    claim_ended = store.claim_ended_at
    stopped = STOPPED_AT.get(handle.id)
    assert claim_ended is not None, "the claim loop was not blocked in a claim at shutdown"
    assert stopped is not None and stopped < claim_ended, (
        f"the run was stopped {'never' if stopped is None else f'{stopped - began:.2f} s'} "
        f"after shutdown began, the claim loop ended {claim_ended - began:.2f} s after it: "
        "the 0.1 s grace waited for the claim loop"
    )
    _, tasks2 = make(store, lease=30)
    try:
        await tasks2.run()
        async with asyncio.timeout(20):  # without waiting out the 30 s lease
            handed = await tasks2.wait(handle.id)
    finally:
        async with asyncio.timeout(20):
            await tasks2.aclose()
    assert handed.status == "completed" and STARTS[handle.id] == 2, (
        f"the stopped repeatable task ended {handed.status} after {STARTS[handle.id]} "
        "start(s), not handed over to the next process and completed there"
    )


async def test_cancellation_racing_completion_ends_each_task_once(box: tw.Toolbox) -> None:
    rng = random.Random(7)
    outcomes: collections.Counter[str] = collections.Counter()
    for _ in range(60):
        handle = await box.start("steps", {"n": 1, "delay": rng.random() * 0.004})
        await asyncio.sleep(rng.random() * 0.006)
        said = await handle.cancel()
        async with asyncio.timeout(10):
            final = await box.tasks.wait(handle.id)
        assert said.status in ("cancelled", "completed")
        assert final.status == said.status  # what cancel answered is how it ended
        assert final.result is not None
        if final.status == "cancelled":
            assert final.result.error is not None and final.result.error.kind == "cancelled"
        else:
            assert final.result.ok and final.result.value == 1
        outcomes[final.status] += 1
    assert sum(outcomes.values()) == 60


async def test_a_thousand_concurrent_short_tasks(store: TaskStore) -> None:
    box, tasks = make(store, max_per_caller=None, workers=64)
    try:
        handles = await asyncio.gather(
            *(box.start("steps", {"n": 1, "delay": 0}) for _ in range(1000))
        )
        async with asyncio.timeout(120):
            results = await asyncio.gather(*(h.result() for h in handles))
    finally:
        async with asyncio.timeout(20):
            await tasks.aclose()
    ids = [h.id for h in handles]
    assert len(set(ids)) == 1000
    assert all(r.ok and r.value == 1 for r in results)
    assert [r.call_id for r in results] == ids  # each its own result
    assert all(STARTS[i] == 1 for i in ids)  # none lost, none run twice
