"""Circuit breaker (Resilience4j semantics): refuse calls while the upstream is failing.

The state machine lives in the state backend (``state._breaker`` in memory, a Lua script in
Redis); this layer asks it for admission before the call and records the outcome after.
Invalid arguments never reach it; a cancelled call or one refused before the handler
records nothing (and gives a half-open trial permit back).
"""

from __future__ import annotations

import time

from toolwire._calls import ToolResult
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._outcomes import finish, refuse
from toolwire.runtime._plan import PreparedCall, ToolPlan
from toolwire.runtime._policy import Breaker, FallbackTool
from toolwire.runtime._services import Services
from toolwire.state import BackendUnavailable, Outcome


def outcome_of(call: PreparedCall, breaker: Breaker, result: ToolResult | None) -> Outcome:
    """What a finished call counts as on its breaker."""
    if result is None or not call.stats.invoked:
        return "ignore"  # cancelled, or refused before reaching the tool
    err = result.error
    if err is None:
        return "success"
    if err.kind == "cancelled":
        return "ignore"
    if not breaker.record_on:
        return "failure"
    exc = call.stats.exc
    for item in breaker.record_on:
        if isinstance(item, str):
            if item == err.kind:
                return "failure"
        elif exc is not None and isinstance(exc, item):
            return "failure"
    return "success"


async def rejected(
    services: Services, call: PreparedCall, breaker: Breaker, retry_after: float | None
) -> ToolResult:
    """The answer of a call the open breaker refused: its fallback, or ``circuit_open``."""
    fb = breaker.fallback
    if isinstance(fb, FallbackTool) and call.depth == 0:
        res = await services.redirect(call, fb.name)
        call.stats.attempts = res.attempts
        call.stats.cached = res.cached
        return finish(call, res.value, res.error)
    if fb is not None and not isinstance(fb, FallbackTool):
        return finish(call, fb)
    wait = f" Retry in {retry_after:.1f} s." if retry_after else ""
    return refuse(
        call,
        "circuit_open",
        f"`{call.plan.name}` is failing and temporarily disabled (circuit open).{wait}",
        retry_after=retry_after,
    )


def unavailable(call: PreparedCall) -> ToolResult:
    return refuse(call, "circuit_open", "the breaker state is unavailable", retry_after=1.0)


class CircuitBreaker(Layer):
    __slots__ = ("breaker", "config", "key")

    def __init__(self, next: Layer | None, plan: ToolPlan, services: Services) -> None:
        super().__init__(next, plan, services)
        breaker = plan.policy.breaker
        assert breaker is not None and plan.breaker_cfg is not None
        self.breaker = breaker
        self.key = plan.breaker_key
        self.config = plan.breaker_cfg

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        return plan.policy.breaker is not None

    async def __call__(self, call: PreparedCall) -> ToolResult:
        backend = self.services.backend
        key, config, br = self.key, self.config, self.breaker
        try:
            adm = backend.breaker_acquire_nowait(key, config)
            if adm is None:
                adm = await backend.breaker_acquire(key, config)
        except BackendUnavailable:
            if self.plan.policy.fail_open is not False:
                return await self.next(call)
            return unavailable(call)
        call.stats.breaker_state = adm.state
        if not adm.allowed:
            return await rejected(self.services, call, br, adm.retry_after)
        admitted = time.monotonic() if br.slow_call_s is not None else 0.0
        result: ToolResult | None = None
        try:
            result = await self.next(call)
        finally:
            outcome = outcome_of(call, br, result)
            slow = br.slow_call_s is not None and time.monotonic() - admitted >= br.slow_call_s
            try:
                tr = backend.breaker_record_nowait(key, config, adm.generation, outcome, slow)
                if tr is None:
                    tr = await backend.breaker_record(key, config, adm.generation, outcome, slow)
            except BackendUnavailable:
                pass  # a lost record only delays tripping
            else:
                if tr.new != tr.old:
                    self.services.emit_breaker(key, tr.old, tr.new)
        return result
