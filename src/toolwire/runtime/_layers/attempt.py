"""The last layer: one attempt of the handler, under the per-attempt timeout.

It starts the handler the way its plan says (awaited in the loop, called inline, in the
thread pool, in a worker process). Most fast handlers finish without suspending: those run
with no timer at all (``runtime._drive.first_step``); only one that suspends is wrapped in a
timeout.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from types import CoroutineType
from typing import Any

from toolwire._calls import ToolResult
from toolwire._context import Context
from toolwire._errors import ToolFailure
from toolwire.runtime._drive import first_step
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._outcomes import error_of, finish
from toolwire.runtime._plan import PreparedCall, ToolPlan
from toolwire.runtime._services import Services

_monotonic = time.monotonic
Started = tuple[Any, Awaitable[Any] | None]


class AttemptTimeout(ToolFailure):
    """An attempt ran past its timeout (kind ``timeout``)."""


def with_context(
    kwargs: Mapping[str, Any], params: tuple[str, ...], ctx: Context
) -> dict[str, Any]:
    """The handler's keyword arguments with its ``Context`` parameters added."""
    out = dict(kwargs)
    for param in params:
        out[param] = ctx
    return out


class Attempt(Layer):
    """Runs one attempt and turns what it returned or raised into the call's result."""

    __slots__ = ("_start", "timeout")

    def __init__(self, next: Layer | None, plan: ToolPlan, services: Services) -> None:
        super().__init__(None, plan, services)
        self.timeout = plan.policy.timeout
        starts: dict[str, Callable[[PreparedCall], Started]] = {
            "async": self._start_async,
            "inline": self._start_inline,
            "thread": self._start_thread,
            "process": self._start_process,
            "none": self._start_none,
        }
        self._start = starts[plan.kind]

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        return True

    async def __call__(self, call: PreparedCall) -> ToolResult:
        stats = call.stats
        stats.attempts += 1
        try:
            value, rest = self._start(call)
            if rest is not None:
                value = await rest
        except BaseException as exc:
            stats.exc = exc
            return finish(call, error=error_of(exc))  # (the caller's cancellation re-raised)
        return finish(call, value)

    # -- how the handler starts, by kind: (value, None) done at once, else (None, the rest) --

    def _until(self, call: PreparedCall, now: float) -> float | None:
        timeout = self.timeout
        until = now + timeout if timeout is not None else None
        deadline = call.deadline
        if deadline is not None and (until is None or deadline < until):
            return deadline
        return until

    def _context(self, call: PreparedCall, until: float | None) -> Context:
        return Context._for_call(
            call.call_id,
            self.plan.name,
            call.caller,
            until,
            call.stats.attempts,
            call.idempotency_key,
            call.progress,
        )

    def _start_async(self, call: PreparedCall) -> Started:
        now = _monotonic()
        until = self._until(call, now)
        plan = self.plan
        ctx = None
        kwargs = call.kwargs
        if plan.context_params:
            ctx = self._context(call, until)
            kwargs = with_context(kwargs, plan.context_params, ctx)
        call.stats.invoked = True
        aw: Any = plan.handler(**kwargs)  # type: ignore[misc]
        if until is None:
            return None, aw  # no timer to save: awaited natively, no stepping wrapper
        if type(aw) is CoroutineType:
            value, rest = first_step(aw)
            if rest is None:
                return value, None  # finished without suspending: no timer needed
            aw = rest
        return None, self._timed(aw, ctx, now, until)

    def _start_inline(self, call: PreparedCall) -> Started:
        plan = self.plan
        kwargs = call.kwargs
        if plan.context_params:
            ctx = self._context(call, self._until(call, _monotonic()))
            kwargs = with_context(kwargs, plan.context_params, ctx)
        call.stats.invoked = True
        return plan.handler(**kwargs), None  # type: ignore[misc]

    def _start_thread(self, call: PreparedCall) -> Started:
        now = _monotonic()
        until = self._until(call, now)
        plan = self.plan
        ctx = None
        kwargs = call.kwargs
        if plan.context_params:
            ctx = self._context(call, until)
            kwargs = with_context(kwargs, plan.context_params, ctx)
        call.stats.invoked = True
        run = contextvars.copy_context().run
        aw = asyncio.get_running_loop().run_in_executor(
            self.services.threads(),
            functools.partial(run, plan.handler, **kwargs),  # type: ignore[arg-type]
        )
        if until is None:
            return None, aw
        return None, self._timed(aw, ctx, now, until)

    def _start_process(self, call: PreparedCall) -> Started:
        now = _monotonic()
        until = self._until(call, now)
        plan = self.plan
        ctx = self._context(call, until) if plan.context_params else None
        call.stats.invoked = True
        limit = None if until is None else max(0.0, until - now)
        return None, self._in_process(dict(call.kwargs), ctx, limit)

    def _start_none(self, call: PreparedCall) -> Started:
        self.plan.tool.require_handler()  # raises: defined for export and validation only
        raise AssertionError("unreachable")  # pragma: no cover

    async def _in_process(
        self, kwargs: dict[str, Any], ctx: Context | None, limit: float | None
    ) -> Any:
        plan = self.plan
        try:
            return await self.services.processes().run(
                plan.handler, kwargs, ctx, plan.context_params, limit
            )
        except TimeoutError:
            raise AttemptTimeout(
                "timeout", f"`{plan.name}` did not finish within {limit:.3g} s and was stopped"
            ) from None

    async def _timed(
        self, aw: Awaitable[Any], ctx: Context | None, now: float, until: float
    ) -> Any:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + (until - now)) as cm:
                return await aw
        except TimeoutError:
            if not cm.expired():
                raise
            if ctx is not None:
                ctx.cancel_event.set()  # cooperative sync tools poll ctx.cancelled and stop
            raise AttemptTimeout(
                "timeout", f"`{self.plan.name}` did not finish within {until - now:.3g} s"
            ) from None
        except asyncio.CancelledError:
            if ctx is not None:
                ctx.cancel_event.set()
            raise
