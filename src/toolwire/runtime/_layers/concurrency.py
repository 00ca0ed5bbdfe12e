"""Concurrency: at most ``Policy.concurrency`` calls of the tool at once in this process
(one for a ``sequential`` tool, ``max_queue`` of them waiting), within the executor's own
``max_concurrency`` slots, which every call takes here, around its retries.

On a shared store the tool's limit also holds across processes: the shared-store layer above
takes one of the tool's slots in the store first, so the tool's limiter here never waits
then (and still holds the limit in this process while the store is unreachable).
"""

from __future__ import annotations

from toolwire._calls import ToolResult
from toolwire._errors import ToolFailure
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._outcomes import finish
from toolwire.runtime._plan import PreparedCall, ToolPlan


class Concurrency(Layer):
    __slots__ = ()

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        return True  # the executor-wide slots apply to every call

    async def __call__(self, call: PreparedCall) -> ToolResult:
        local = self.plan.limiter
        slots = self.services.slots
        try:
            if local is not None and not local.try_acquire():
                await local.acquire(call.deadline)
            if not slots.try_acquire():
                try:
                    await slots.acquire(call.deadline)
                except BaseException:
                    if local is not None:
                        local.release()
                    raise
        except ToolFailure as exc:  # a full queue, or the deadline while waiting
            return finish(call, error=exc.to_error())
        try:
            return await self.next(call)
        finally:
            slots.release()
            if local is not None:
                local.release()
