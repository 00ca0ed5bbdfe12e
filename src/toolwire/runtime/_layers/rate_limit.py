"""Rate limit: at most ``rate`` calls per ``per`` seconds (GCRA), per tool or per caller.

A call over the limit is refused at once (``rate_limited`` with ``retry_after``), or waits
for its reserved slot when that is at most ``max_wait`` (and the call's deadline) away.
"""

from __future__ import annotations

import asyncio
import time

from toolwire._calls import ToolResult
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._outcomes import refuse
from toolwire.runtime._plan import PreparedCall, ToolPlan
from toolwire.runtime._policy import RateLimit
from toolwire.runtime._services import Services
from toolwire.state import BackendUnavailable


def rate_key(call: PreparedCall, limit: RateLimit) -> str:
    """The counter a call takes its slot from: the tool's, or the tool's for its caller."""
    if limit.per_caller and call.caller is not None:
        return f"{call.plan.name}:{call.caller.id}"
    return call.plan.name


def max_wait(call: PreparedCall, limit: RateLimit) -> float:
    """How long the call may wait for a slot: ``max_wait``, within its deadline."""
    if call.deadline is None:
        return limit.max_wait
    return max(0.0, min(limit.max_wait, call.deadline - time.monotonic()))


def over_limit(call: PreparedCall, retry_after: float | None) -> ToolResult:
    limit = call.plan.policy.rate_limit
    assert limit is not None
    return refuse(
        call,
        "rate_limited",
        f"`{call.plan.name}` is over its rate limit of {limit.rate:g} per {limit.per:g} s",
        retry_after=retry_after,
    )


def unavailable(call: PreparedCall) -> ToolResult:
    return refuse(
        call, "rate_limited", "the rate limiter is unavailable; retry later", retry_after=1.0
    )


class RateLimiting(Layer):
    __slots__ = ("limit",)

    def __init__(self, next: Layer | None, plan: ToolPlan, services: Services) -> None:
        super().__init__(next, plan, services)
        limit = plan.policy.rate_limit
        assert limit is not None
        self.limit = limit

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        return plan.policy.rate_limit is not None

    async def __call__(self, call: PreparedCall) -> ToolResult:
        limit = self.limit
        try:
            decision = await self.services.backend.rate_acquire(
                rate_key(call, limit), limit.rate, limit.per, max_wait(call, limit)
            )
        except BackendUnavailable:
            if self.plan.policy.fail_open is False:
                return unavailable(call)
        else:
            if not decision.allowed:
                return over_limit(call, decision.retry_after)
            if decision.wait > 0:
                await asyncio.sleep(decision.wait)
        return await self.next(call)
