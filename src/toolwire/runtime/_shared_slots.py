"""The concurrency limit on a shared store: one of a tool's slots across every process.

On a shared backend (Redis) ``Policy.concurrency`` counts the calls of a tool running in
every process on the store, and ``Policy.max_queue`` the callers waiting for them. The slot
is asked for in the same step as the other shared policies (``StateBackend.admit``) and given
back in the same step as their writes (``settle``), so it adds no round trip to a call that
uses one of them. A caller that has to wait asks again with a short jittered pause until a
slot is its turn or its deadline passes; the store keeps the queue first come first served.
Once the slot is held the process's own limiter is taken as well (it never waits then, and
it keeps holding the limit in this process while the store is unreachable).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import TYPE_CHECKING

from toolwire._calls import ToolResult
from toolwire._errors import ToolFailure
from toolwire.runtime._limits import queue_full, wait_timeout
from toolwire.runtime._percall import CallState
from toolwire.state import BackendUnavailable, CallPlan, SlotStatus, StateBackend

if TYPE_CHECKING:
    from toolwire.runtime._executor import Executor

# Pauses between a waiter's asks: from 5 ms doubling to 50 ms, each drawn in [half, whole].
# Every ask also keeps the waiter's place (state.WAITER_TTL is far longer).
_FIRST_PAUSE = 0.005
_MAX_PAUSE = 0.05
_holders = itertools.count()


class Slot:
    """A call's standing at its tool's shared limit: what ``settle`` has to give back."""

    __slots__ = ("status",)

    def __init__(self, status: SlotStatus | None) -> None:
        self.status = status

    @property
    def taken(self) -> bool:
        """Held, or a place in the queue: either way the store has to forget it."""
        return self.status == "held" or self.status == "queued"


def new_holder(ex: Executor) -> str:
    """A name for one call's slot, unique across processes (the executor's owner id)."""
    return f"{ex._owner}:{next(_holders)}"


def unavailable(c: CallState) -> ToolResult:
    return c.fail(
        "rate_limited", "the concurrency limiter is unavailable; retry later", retry_after=1.0
    )


async def limited(ex: Executor, c: CallState, plan: CallPlan, slot: Slot) -> ToolResult:
    """The concurrency layer of a call on a shared store, then the rest of the chain."""
    key = plan.slot_key
    assert key is not None
    backend = ex.backend
    try:
        if slot.status is None:  # not asked with the others (the call slept for its rate slot)
            slot.status = await backend.slot_acquire(
                key, plan.slot_holder, plan.slot_limit, plan.slot_queue
            )
        if slot.status == "queued":
            await _wait(backend, c, plan, slot)
    except BackendUnavailable:
        if c.policy.fail_open is False:
            return unavailable(c)
        return await ex._limited(c)  # open: this process's own limit still holds
    except ToolFailure as exc:
        return c.result(error=exc.to_error())
    if slot.status == "full":
        return c.result(error=queue_full(f"tool {c.tool.name}").to_error())
    return await ex._limited(c)


async def _wait(backend: StateBackend, c: CallState, plan: CallPlan, slot: Slot) -> None:
    """Ask again until the slot is ours (or the queue turned us away); ``timeout`` at the
    deadline. Cancelled or timed out, the call's ``settle`` takes it out of the queue."""
    assert plan.slot_key is not None
    pause = _FIRST_PAUSE
    while True:
        delay = random.uniform(pause / 2, pause)
        if c.deadline is not None:
            left = c.deadline - time.monotonic()
            if left <= 0:
                raise wait_timeout(f"tool {c.tool.name}")
            delay = min(delay, left)  # one last ask at the deadline
        await asyncio.sleep(delay)
        slot.status = await backend.slot_acquire(
            plan.slot_key, plan.slot_holder, plan.slot_limit, plan.slot_queue
        )
        if slot.status != "queued":
            return
        pause = min(pause * 2, _MAX_PAUSE)
