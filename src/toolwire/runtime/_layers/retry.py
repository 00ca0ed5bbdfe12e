"""Retry: attempts again after failures worth another try, with full-jitter backoff.

Bounded by ``Retry.attempts``, ``max_elapsed``, the call's deadline and the tool's retry
budget (on a shared store one budget for every process: ``SharedRetryBudget``). Never
retried: invalid arguments and the other kinds in ``NEVER_RETRY``, a cancellation, and a
tool that is neither read-only nor idempotent unless the call carries an idempotency key
(running a side effect twice is worse than failing once).
"""

from __future__ import annotations

import asyncio
import time

from toolwire._backoff import backoff_delay
from toolwire._calls import ToolResult
from toolwire._errors import ToolError
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._limits import SharedRetryBudget
from toolwire.runtime._plan import PreparedCall, ToolPlan
from toolwire.runtime._policy import Retry
from toolwire.runtime._services import Services

NEVER_RETRY = frozenset(
    {"invalid_arguments", "too_large", "cancelled", "circuit_open", "unknown_tool", "forbidden",
     "unauthorized", "approval_required", "unavailable"}
)  # fmt: skip


class RetryLayer(Layer):
    __slots__ = ("retry", "shared")

    def __init__(self, next: Layer | None, plan: ToolPlan, services: Services) -> None:
        super().__init__(next, plan, services)
        retry = plan.policy.retry
        assert retry is not None
        self.retry: Retry = retry
        backend = services.backend
        self.shared = (
            SharedRetryBudget(backend, plan.name, retry.budget) if backend.shared else None
        )

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        return plan.policy.retry is not None

    async def __call__(self, call: PreparedCall) -> ToolResult:
        retry = self.retry
        shared = self.shared
        budget = self.plan.budget
        assert budget is not None
        if shared is not None:
            shared.deposit()
        else:
            budget.deposit()
        while True:
            result = await self.next(call)
            error = result.error
            if error is None or not self._may_retry(call, error):
                return result
            attempts = call.stats.attempts
            delay = backoff_delay(attempts, retry.backoff, retry.max_backoff, error.retry_after)
            now = time.monotonic()
            if call.deadline is not None and now + delay >= call.deadline:
                return result
            if retry.max_elapsed is not None and now + delay - call.started > retry.max_elapsed:
                return result
            if not (await shared.withdraw() if shared is not None else budget.withdraw()):
                return result
            await asyncio.sleep(delay)

    def _may_retry(self, call: PreparedCall, error: ToolError) -> bool:
        if call.stats.attempts >= self.retry.attempts or error.kind in NEVER_RETRY:
            return False
        if not self.plan.safe and call.idempotency_key is None:
            return False  # running a side effect twice is worse than failing once
        exc = call.stats.exc
        for item in self.retry.retry_on:
            if isinstance(item, str):
                if item == error.kind:
                    return True
            elif (exc is not None and isinstance(exc, item)) or (
                issubclass(item, TimeoutError) and error.kind == "timeout"
            ):
                return True
        return False
