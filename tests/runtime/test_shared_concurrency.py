"""Policy.concurrency on a shared store: one limit across executors and OS processes.

Two executors on one Redis prefix stand for two processes (and one test uses a real second
process): at most ``concurrency`` calls of a tool run at once across all of them, waiters are
served first come first served, a full queue refuses as the in-process limiter does, and the
slot of a cancelled call or a killed process comes back.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import runtime_slot_child
from runtime_fixtures import TEARDOWN_S, ComposedMemory, _drop_prefix, redis_prefix_fixture  # noqa: F401

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state import MemoryBackend, StateBackend

pytestmark = pytest.mark.anyio
CHILD = Path(runtime_slot_child.__file__)
FULL = "tool gate is at its concurrency limit and its wait queue is full; try again shortly"


async def _eventually(check: Callable[[], Any], what: str, limit: float = 20.0) -> None:
    """Wait (polling) until ``check()`` is true; the limit only guards against a hang."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + limit
    while not await check():
        assert loop.time() < give_up, f"{what} did not happen"
        await asyncio.sleep(0.01)


@pytest.fixture(name="make_backend")
async def make_backend_fixture(
    redis_url: str, redis_prefix: str
) -> AsyncIterator[Callable[..., Any]]:
    from toolwire.state.redis import RedisBackend

    made: list[RedisBackend] = []

    def make(**kwargs: Any) -> RedisBackend:
        made.append(RedisBackend(redis_url, prefix=redis_prefix, **kwargs))
        return made[-1]

    try:
        yield make
    finally:
        try:
            if made:
                await _drop_prefix(made[0].client, redis_prefix)  # bounded
        finally:
            for be in made:
                async with asyncio.timeout(TEARDOWN_S):
                    await be.aclose()


class Gate:
    """A tool ``gate(name)`` whose calls wait until released, recording what ran when."""

    def __init__(self, policy: tw.Policy) -> None:
        self.running = 0
        self.most = 0
        self.order: list[str] = []
        self.entered: set[str] = set()
        self.release: dict[str, asyncio.Event] = {}

        @tw.tool(policy=policy)
        async def gate(name: str) -> str:
            self.running += 1
            self.most = max(self.most, self.running)
            self.order.append(name)
            self.entered.add(name)
            try:
                await self.event(name).wait()
            finally:
                self.running -= 1
            return name

        self.tool = gate

    def event(self, name: str) -> asyncio.Event:
        return self.release.setdefault(name, asyncio.Event())

    def box(self, backend: StateBackend) -> tw.Toolbox:
        return tw.Toolbox([self.tool], runtime=Executor(backend=backend))

    async def inside(self, name: str) -> None:
        async def check() -> bool:
            return name in self.entered

        await _eventually(check, f"{name} running")


def _kind(res: tw.ToolResult) -> str:
    return res.error.kind if res.error is not None else "ok"


async def _queued(backend: Any, n: int) -> None:
    """Wait until ``n`` callers wait in the shared queue of ``gate``."""

    async def check() -> bool:
        return int(await backend.client.zcard(backend._k("semq", "gate"))) == n

    await _eventually(check, f"{n} waiting")


# -- across executors and processes ---------------------------------------------------------


async def test_limit_holds_across_two_executors(make_backend: Callable[..., Any]) -> None:
    gate = Gate(tw.Policy(concurrency=2))
    boxes = [gate.box(make_backend()), gate.box(make_backend())]
    names = [f"c{i}" for i in range(8)]
    calls = [
        asyncio.ensure_future(boxes[i % 2].call("gate", {"name": n})) for i, n in enumerate(names)
    ]

    async def two_in() -> bool:
        return len(gate.entered) - sum(e.is_set() for e in gate.release.values()) == 2

    # release the running calls one at a time; the others must wait for their slots
    while len(gate.entered) < len(names):
        await _eventually(two_in, "two calls running")
        assert gate.running == 2
        running = [n for n in gate.order if not gate.event(n).is_set()]
        gate.event(running[0]).set()
    for n in names:
        gate.event(n).set()
    results = await asyncio.gather(*calls)
    assert [r.value for r in results] == names
    assert gate.most == 2


async def test_limit_holds_across_two_processes(redis_url: str, redis_prefix: str) -> None:
    box = runtime_slot_child.make_box(redis_url, redis_prefix)
    client = box.runtime.backend.client
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(CHILD), redis_url, redis_prefix, "15", "burst",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip

        async def child_started() -> bool:
            return int(await client.get(redis_prefix + "started") or 0) > 0

        await _eventually(child_started, "the child's first call")
        calls = [
            tw.ToolCall(id=str(i), name="guarded", arguments='{"hold": 0.1}') for i in range(6)
        ]
        mine = await box.run(calls)
        out, _ = await asyncio.wait_for(child.communicate(), 60)
        assert child.returncode == 0
        theirs = json.loads(out.decode().strip().splitlines()[-1])
        assert all(r.ok for r in mine), mine
        assert theirs == {"ok": 6}
        assert int(await client.get(redis_prefix + "started")) == 12
        assert int(await client.get(redis_prefix + "max")) == 2
    finally:
        await _drop_prefix(client, redis_prefix)
        await box.runtime.backend.aclose()


async def test_killed_process_gives_its_slot_back_after_the_lease(
    redis_url: str, redis_prefix: str
) -> None:
    box = runtime_slot_child.make_box(redis_url, redis_prefix, lease=1.0)
    backend: Any = box.runtime.backend
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), redis_url, redis_prefix, "1.0", "hold",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:

        async def child_holds() -> bool:
            return int(await backend.client.get(redis_prefix + "stuck-in") or 0) == 1

        await _eventually(child_holds, "the child holding the slot")
        # the child's lease (1 s) is renewed while it lives: its slot stays taken
        await asyncio.sleep(2.0)
        refused = await box.call("stuck", {"block": False})
        assert _kind(refused) == "rate_limited", refused
        child.send_signal(signal.SIGKILL)
        await child.wait()

        # the dead process renews nothing: its slot is free again once the lease ran out
        async def runs() -> bool:
            return _kind(await box.call("stuck", {"block": False})) == "ok"

        await _eventually(runs, "the dead holder's lease running out")
        assert await box.runtime.flush(10.0)  # our own release is written behind the answer
        assert int(await backend.client.zcard(backend._k("sem", "stuck"))) == 0
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await _drop_prefix(backend.client, redis_prefix)
        await backend.aclose()


# -- queue, refusals, deadlines, cancellation -----------------------------------------------


async def test_queue_is_first_come_first_served_and_bounded(
    make_backend: Callable[..., Any],
) -> None:
    gate = Gate(tw.Policy(concurrency=1, max_queue=3))
    first, second = make_backend(), make_backend()
    one, two = gate.box(first), gate.box(second)
    holder = asyncio.ensure_future(one.call("gate", {"name": "holder"}))
    await gate.inside("holder")
    waiting = []
    for i, name in enumerate(["w1", "w2", "w3"]):
        waiting.append(asyncio.ensure_future((one, two)[i % 2].call("gate", {"name": name})))
        await _queued(first, i + 1)
    refused = await two.call("gate", {"name": "late"})
    assert _kind(refused) == "rate_limited"
    assert refused.error is not None
    assert (refused.error.message, refused.error.retry_after) == (FULL, 0.1)
    for name in ["holder", "w1", "w2", "w3"]:
        gate.event(name).set()
    assert (await holder).ok
    assert [r.value for r in await asyncio.gather(*waiting)] == ["w1", "w2", "w3"]
    assert gate.order == ["holder", "w1", "w2", "w3"]
    assert gate.most == 1


async def test_full_queue_refusal_matches_the_in_process_limiter() -> None:
    gate = Gate(tw.Policy(concurrency=1, max_queue=0))
    box = gate.box(MemoryBackend())
    holder = asyncio.ensure_future(box.call("gate", {"name": "holder"}))
    await gate.inside("holder")
    refused = await box.call("gate", {"name": "late"})
    assert refused.error is not None
    assert (refused.error.kind, refused.error.message, refused.error.retry_after) == (
        "rate_limited",
        FULL,
        0.1,
    )
    gate.event("holder").set()
    await holder


async def test_deadline_while_queued_is_a_timeout(make_backend: Callable[..., Any]) -> None:
    gate = Gate(tw.Policy(concurrency=1))
    first, second = make_backend(), make_backend()
    one = gate.box(first)
    two = tw.Toolbox(
        [gate.tool],
        runtime=Executor(backend=second, default_policy=tw.Policy(total_timeout=0.3)),
    )
    holder = asyncio.ensure_future(one.call("gate", {"name": "holder"}))
    await gate.inside("holder")
    late = await two.call("gate", {"name": "late"})
    assert late.error is not None
    assert (late.error.kind, late.error.message) == (
        "timeout",
        "timed out waiting for a free slot of tool gate",
    )
    # it left the queue on the way out (written behind the answer)
    assert await two.runtime.flush(10.0)
    assert int(await first.client.zcard(first._k("semq", "gate"))) == 0
    assert "late" not in gate.entered
    gate.event("holder").set()
    assert (await holder).ok


async def test_cancelled_holder_and_waiter_give_their_places_back(
    make_backend: Callable[..., Any],
) -> None:
    gate = Gate(tw.Policy(concurrency=1))
    first, second = make_backend(), make_backend()
    one, two = gate.box(first), gate.box(second)
    holder = asyncio.ensure_future(one.call("gate", {"name": "holder"}))
    await gate.inside("holder")
    waiter = asyncio.ensure_future(two.call("gate", {"name": "waiter"}))
    await _queued(first, 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert await two.runtime.flush(10.0)  # (places are given back behind the answer)
    assert int(await first.client.zcard(first._k("semq", "gate"))) == 0
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    assert await one.runtime.flush(10.0)
    assert int(await first.client.zcard(first._k("sem", "gate"))) == 0
    gate.event("next").set()
    assert (await two.call("gate", {"name": "next"})).value == "next"


@pytest.mark.slow
async def test_lease_is_renewed_while_a_long_call_runs(make_backend: Callable[..., Any]) -> None:
    # A 0.6 s lease (renewed every 0.2 s) lapsed now and then with the CPUs busy: a renewal
    # late by 0.4 s. 1.5 s leaves a renewal 1 s to arrive.
    gate = Gate(tw.Policy(concurrency=1, max_queue=0))
    first = make_backend(concurrency_lease=1.5)
    second = make_backend(concurrency_lease=1.5)
    one, two = gate.box(first), gate.box(second)
    holder = asyncio.ensure_future(one.call("gate", {"name": "holder"}))
    await gate.inside("holder")
    await asyncio.sleep(5.0)  # more than three leases: only renewals keep the slot
    assert _kind(await two.call("gate", {"name": "late"})) == "rate_limited"
    gate.event("holder").set()
    assert (await holder).ok
    assert first._held == {}  # nothing left to renew
    gate.event("after").set()
    assert _kind(await two.call("gate", {"name": "after"})) == "ok"


async def test_composed_backend_keeps_the_same_rules() -> None:
    """The default ``admit``/``settle`` (per-policy methods composed) on a shared store."""
    gate = Gate(tw.Policy(concurrency=1, max_queue=1, breaker=tw.Breaker()))
    backend = ComposedMemory()
    one, two = gate.box(backend), gate.box(backend)
    holder = asyncio.ensure_future(one.call("gate", {"name": "holder"}))
    await gate.inside("holder")
    waiter = asyncio.ensure_future(two.call("gate", {"name": "waiter"}))

    async def one_waiting() -> bool:
        return len(backend._slot_queues.get("gate", {})) == 1

    await _eventually(one_waiting, "one waiting")
    refused = await two.call("gate", {"name": "late"})
    assert refused.error is not None and refused.error.message == FULL
    gate.event("holder").set()
    gate.event("waiter").set()
    assert [r.value for r in await asyncio.gather(holder, waiter)] == ["holder", "waiter"]
    assert backend._slots["gate"] == set() and not backend._slot_queues["gate"]


# -- an unreachable store -------------------------------------------------------------------


@pytest.mark.parametrize(("fail_open", "kind"), [(None, "ok"), (False, "rate_limited")])
async def test_unreachable_store_fails_open_or_closed(fail_open: bool | None, kind: str) -> None:
    import socket

    from toolwire.state.redis import RedisBackend

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    backend = RedisBackend(f"redis://127.0.0.1:{port}/0", connect_timeout=0.2)
    gate = Gate(tw.Policy(concurrency=1, fail_open=fail_open))
    gate.event("a").set()
    try:
        res = await gate.box(backend).call("gate", {"name": "a"})
    finally:
        await backend.aclose()
    assert _kind(res) == kind, res
    if kind != "ok":
        assert res.error is not None
        assert res.error.message == "the concurrency limiter is unavailable; retry later"
