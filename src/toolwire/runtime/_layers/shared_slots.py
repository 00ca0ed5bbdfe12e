"""The concurrency limit on a shared store: one of a tool's slots across every process.

On a shared backend (Redis) ``Policy.concurrency`` counts the calls of a tool running in
every process on the store, and ``Policy.max_queue`` the callers waiting for them. The slot
is asked for in the same step as the other shared policies (``StateBackend.admit``) and given
back with their writes (``settle``, written behind the answer), so it adds no round trip to
a call. A caller that has to wait listens for a wake-up from the store (``slot_watch``: sent
when a slot is given back to the caller whose turn it is) and asks again then, or after
``SLOT_RECHECK`` seconds when none came (a lost wake-up, a dead holder's lease that ran out),
until a slot is its turn or its deadline passes; the store keeps the queue first come first
served. Nothing polls: a waiter asks about once a second when no slot frees. Once the
slot is held the process's own limit is taken as well (the concurrency layer below: it never
waits then, and it keeps holding the limit in this process while the store is unreachable).
"""

from __future__ import annotations

import itertools
import time

from toolwire._calls import ToolResult
from toolwire._errors import ToolFailure
from toolwire.runtime._limits import queue_full, wait_timeout
from toolwire.runtime._outcomes import finish, refuse
from toolwire.runtime._plan import PreparedCall
from toolwire.state import BackendUnavailable, CallPlan, SlotStatus, StateBackend
from toolwire.state._base import SLOT_RECHECK

_holders = itertools.count()


class Slot:
    """A call's standing at its tool's shared limit: what the settlement has to give back."""

    __slots__ = ("status",)

    def __init__(self, status: SlotStatus | None) -> None:
        self.status = status

    @property
    def taken(self) -> bool:
        """Held, or a place in the queue: either way the store has to forget it."""
        return self.status == "held" or self.status == "queued"


def new_holder(owner: str) -> str:
    """A name for one call's claims and slot, unique across processes (the executor's owner
    id and a count)."""
    return f"{owner}:{next(_holders)}"


def unavailable(call: PreparedCall) -> ToolResult:
    return refuse(
        call, "rate_limited", "the concurrency limiter is unavailable; retry later", retry_after=1.0
    )


async def take_slot(
    backend: StateBackend, call: PreparedCall, plan: CallPlan, slot: Slot
) -> ToolResult | None:
    """Hold the call's shared slot (None: go on), or the call's answer when it cannot."""
    key = plan.slot_key
    assert key is not None
    try:
        if slot.status is None:  # not asked with the others (the call slept for its rate slot)
            slot.status = await backend.slot_acquire(
                key, plan.slot_holder, plan.slot_limit, plan.slot_queue
            )
        if slot.status == "queued":
            await _wait(backend, call, plan, slot)
    except BackendUnavailable:
        if call.plan.policy.fail_open is False:
            return unavailable(call)
        return None  # open: this process's own limit still holds
    except ToolFailure as exc:
        return finish(call, error=exc.to_error())
    if slot.status == "full":
        return finish(call, error=queue_full(f"tool {call.plan.name}").to_error())
    return None


async def _wait(backend: StateBackend, call: PreparedCall, plan: CallPlan, slot: Slot) -> None:
    """Ask again on each wake-up (or ``SLOT_RECHECK`` without one, which also keeps the
    caller's place) until the slot is ours or the queue turned us away; ``timeout`` at the
    deadline. Cancelled or timed out, the call's settlement takes it out of the queue."""
    assert plan.slot_key is not None
    # listening starts before the first ask, so a slot freed right after it is heard
    watch = backend.slot_watch(plan.slot_key, plan.slot_holder)
    try:
        while True:
            slot.status = await backend.slot_acquire(
                plan.slot_key, plan.slot_holder, plan.slot_limit, plan.slot_queue
            )
            if slot.status != "queued":
                return
            wait = SLOT_RECHECK
            if call.deadline is not None:
                left = call.deadline - time.monotonic()
                if left <= 0:
                    raise wait_timeout(f"tool {call.plan.name}")
                wait = min(wait, left)  # one last ask at the deadline
            await watch.wait(wait)
    finally:
        watch.close()
