"""The contract of a policy layer: one policy of the chain, handed the next layer.

A layer is built once per tool (when its plan is folded) and called once per call::

    class Bulkhead(Layer):
        @classmethod
        def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
            return plan.policy.bulkhead is not None

        async def __call__(self, call: PreparedCall) -> ToolResult:
            ...                                  # before the rest of the chain
            result = await self.next(call)
            ...                                  # after it
            return result

and listed, in chain order, in ``runtime._layers.CHAIN`` (or ``SHARED_CHAIN``).
"""

from __future__ import annotations

from toolwire._calls import ToolResult
from toolwire.runtime._plan import PreparedCall, ToolPlan
from toolwire.runtime._services import Services


class Layer:
    """One policy between a call and its handler. ``next`` is the rest of the chain."""

    __slots__ = ("next", "plan", "services")

    def __init__(self, next: Layer | None, plan: ToolPlan, services: Services) -> None:
        self.next: Layer = next  # type: ignore[assignment] # None only for the last layer
        self.plan = plan
        self.services = services

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        """Whether a call of ``plan`` (with an idempotency key when ``keyed``) needs this."""
        raise NotImplementedError

    async def __call__(self, call: PreparedCall) -> ToolResult:
        raise NotImplementedError
