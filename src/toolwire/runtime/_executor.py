"""The executor: runs every call through its tool's chain, concurrently, with one result each.

Per call: find the tool, take its plan (compiled once per tool: ``runtime._plan``, with the
chain of layers its policy uses folded by ``runtime._layers``), validate the arguments,
then run the chain. Invalid arguments are never retried and never count against a breaker.
A tool whose policy needs no layer and no timer runs its handler in this coroutine directly.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult, new_result
from toolwire._context import Caller, Context, ProgressCallback
from toolwire._errors import (
    InvalidArguments,
    ToolDefinitionError,
    ToolError,
    UnknownTool,
)
from toolwire._fast import twin
from toolwire._tools import Tool
from toolwire.observe import (
    UNKNOWN_TOOL,
    BreakerEvent,
    CallRecord,
    Observers,
    Subscriber,
    get_metrics,
)
from toolwire.observe._metrics import BIN_EVERY
from toolwire.observe._tracing import TRACE, finish_span, tool_span, tracing_active
from toolwire.runtime._keys import cache_key
from toolwire.runtime._layers import fold
from toolwire.runtime._layers.attempt import with_context
from toolwire.runtime._limits import Limiter
from toolwire.runtime._outcomes import error_of
from toolwire.runtime._plan import CallStats, PreparedCall, ToolLookup, ToolPlan, new_prepared
from toolwire.runtime._policy import Policy
from toolwire.runtime._process import ProcessPool
from toolwire.runtime._resolve import check_policy, effective_policy
from toolwire.runtime._services import Services
from toolwire.state import BreakerState, MemoryBackend
from toolwire.state._base import StateBackend

log = logging.getLogger("toolwire.runtime")
_monotonic = time.monotonic
_new = object.__new__
_ResultFields = twin(ToolResult)
_EAGER = sys.version_info >= (3, 12)  # asyncio.Task(eager_start=...): see Executor.run


class Executor:
    """Runs tool calls concurrently under their policies, always one result per call.

    Policy precedence (lowest first): ``default_policy``, the tool's own ``policy`` from code,
    then ``policies`` entries whose glob matches the tool name (less specific first).

    At most ``max_concurrency`` calls run at once (1,024 by default: async calls are cheap,
    and a lower cap turns a large fan-out into waves); up to ``max_queue`` more wait for a slot
    (16,384 by default), and beyond that calls are refused at once as ``rate_limited`` rather
    than piling up without bound.

    On a shared store (Redis) what a call writes after it ran is written behind its answer
    (see ``runtime._settle``); :meth:`flush` waits for those writes, :meth:`aclose` makes them.

    Example::

        async with Executor(backend=RedisBackend(url), policies={"weather.*": slow}) as ex:
            results = await ex.run(box, calls)
    """

    def __init__(
        self,
        *,
        backend: StateBackend | None = None,
        max_concurrency: int = 1024,
        max_queue: int | None = 16_384,
        thread_workers: int | None = None,
        process_workers: int = 2,
        policies: Mapping[str, Policy] | None = None,
        default_policy: Policy | None = None,
        on_record: Callable[[Any], None] | None = None,
        idempotency_ttl: float = 24 * 3600.0,
    ) -> None:
        self.backend: StateBackend = backend or MemoryBackend()
        self._slots = Limiter(max_concurrency, max_queue, name="the tool runtime")
        self._policies = dict(policies or {})
        self._default_policy = default_policy
        # by the name calls use (a tool's name, or an exported wire name resolving to it)
        self._plans: dict[str, ToolPlan] = {}
        self._observers = Observers()
        if on_record is not None:
            self._observers.subscribe(on_record)
        self._metrics = get_metrics()
        self._services = Services(
            backend=self.backend,
            owner=uuid.uuid4().hex,
            slots=self._slots,
            idempotency_ttl=idempotency_ttl,
            emit_breaker=self._emit_breaker,
            redirect=self._redirect,
            thread_workers=thread_workers,
            process_workers=process_workers,
        )

    # -- lifecycle --------------------------------------------------------------------------
    async def __aenter__(self) -> Executor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def flush(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until every after-call write made so far reached the state store (True), or
        ``timeout`` seconds passed first (False). Nothing to wait for on the memory store."""
        return await self._services.settler.flush(timeout)

    async def aclose(self) -> None:
        """Write what is still queued for the state store (waiting at most 5 s), then stop
        the worker processes and threads (running thread calls finish on their own)."""
        await self._services.settler.aclose()
        await self._services.aclose()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Receive every ``CallRecord`` and ``BreakerEvent``; returns the unsubscribe function."""
        return self._observers.subscribe(callback)

    @property
    def process_pool(self) -> ProcessPool:
        return self._services.processes()

    # -- admin ------------------------------------------------------------------------------
    async def breaker_state(self, key: str) -> BreakerState:
        """The state of the breaker of a tool (or shared ``Breaker.key``), after this
        executor's own records reached the store."""
        await self._services.settler.flush(5.0)
        return await self.backend.breaker_state(key)

    async def force_breaker(self, key: str, state: BreakerState | None) -> None:
        """Force ``forced_open`` or ``disabled``; ``None``/``closed`` resets it."""
        await self._services.settler.flush(5.0)  # earlier records must not land after this
        await self.backend.breaker_force(key, state)
        self._emit_breaker(key, "?", state or "closed")

    async def invalidate(
        self, tool: Any, arguments: Mapping[str, Any] | str | None = None, *, caller: Any = None
    ) -> int:
        """Drop cached results of ``tool`` (a Tool or a name): all of them, or one call's."""
        name = tool if isinstance(tool, str) else tool.name
        await self._services.settler.flush(5.0)  # a queued cache write must not come back
        if arguments is None:
            return await self.backend.cache_delete(f"{name}:*")
        if isinstance(tool, str):
            plan = self._plans.get(name)
            tool = plan.tool if plan is not None else None
        caller_id = caller.id if isinstance(caller, Caller) else caller
        if tool is None:
            # a tool this executor has not run: no policy to read, the caller decides
            kwargs = _json.loads(arguments) if isinstance(arguments, str) else dict(arguments)
            per_caller = caller_id is not None
        else:
            # the key the executor stored: validated arguments, the tool's own per_caller
            kwargs = tool.validate(arguments)
            cache = self.policy_for(tool).cache
            per_caller = cache is not None and cache.scoped(tool)
        key = cache_key(name, kwargs, caller_id, per_caller, local=not self.backend.shared)
        return await self.backend.cache_delete(key)

    def policy_for(self, tool: Any) -> Policy:
        """The effective policy of ``tool`` under this executor (see the class docstring)."""
        return effective_policy(tool, self._policies, self._default_policy)

    def _plan_for(self, name: str, tool: Tool) -> ToolPlan:
        """The plan of ``tool`` (compiled on its first call), cached under ``name`` too."""
        plan = self._plans.get(tool.name)
        if plan is None or plan.tool is not tool:
            policy = self.policy_for(tool)
            check_policy(tool, policy)
            metrics = self._metrics.for_tool(tool.name) if self._metrics is not None else None
            plan = fold(ToolPlan(tool, policy, metrics), self._services)
            # a new tool of that name replaces the old one, under every name it was called by
            stale = [n for n, p in self._plans.items() if p.name == tool.name]
            for n in stale:
                del self._plans[n]
            self._plans[tool.name] = plan
        self._plans[name] = plan
        return plan

    # -- entry points -----------------------------------------------------------------------
    def call(
        self,
        box: ToolLookup,
        call: ToolCall,
        *,
        caller: Caller | None = None,
        idempotency_key: str | None = None,
        deadline: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Any:
        """Execute one call (await it); failures come back as a result with an error kind.

        ``progress`` receives the tool's ``ctx.report_progress(...)`` reports (a transport
        forwards them, e.g. as MCP progress notifications). Tools isolated in a worker
        process cannot report progress: the callback stays in this process.
        """
        return self._run_one(
            box, None, call.id, call.name, call.arguments, caller, idempotency_key, deadline,
            progress,
        )  # fmt: skip

    async def _run_one(
        self,
        box: ToolLookup,
        tool: Tool | None,
        call_id: str,
        name: str,
        arguments: Any,
        caller: Caller | None,
        idempotency_key: str | None,
        deadline: float | None,
        progress: ProgressCallback | None,
        depth: int = 0,
        record: bool = True,
    ) -> ToolResult:
        """One call from the wire's parts (``Toolbox.call`` starts here, with no ToolCall,
        and the tool when it found it by name already)."""
        started = _monotonic()
        if record and started >= TRACE.ask_from and tracing_active():
            return await self._traced(
                box, call_id, name, arguments, caller, idempotency_key, deadline, progress
            )
        plan: ToolPlan | None = None
        stats: CallStats | None = None
        try:
            if tool is None:
                tool = box.get(name)
            plan = self._plans.get(name)
            if plan is None or plan.tool is not tool:
                plan = self._plan_for(name, tool)
            kwargs: Mapping[str, Any] | None = plan.quick(arguments)
            if kwargs is None:
                kwargs = plan.validate(arguments)
            slots = self._slots
            if (
                plan.bare
                and idempotency_key is None
                and deadline is None
                and slots.free > 0
                and not slots.waiters
            ):
                # No layer but the attempt, no timer, a free slot: the attempt right here, as
                # the attempt layer would run it (a coroutine less on the commonest call).
                slots.free -= 1
                error: ToolError | None = None
                value: Any = None
                try:
                    if plan.context_params:
                        ctx = _context(call_id, plan.name, caller, progress)
                        kwargs = with_context(kwargs, plan.context_params, ctx)
                    if plan.awaited:
                        value = await plan.handler(**kwargs)  # type: ignore[misc]
                    else:
                        value = plan.handler(**kwargs)  # type: ignore[misc]
                except BaseException as exc:
                    error = error_of(exc)  # (the caller's cancellation re-raised)
                finally:
                    if slots.waiters:
                        slots.release()
                    else:
                        slots.free += 1
                elapsed = _monotonic() - started
                # new_result(call_id, name, error is None, value, error, 1, False, elapsed),
                # inlined (_fast explains the twin): a function call less on every call
                built: Any = _new(_ResultFields)
                built.call_id = call_id
                built.name = name
                built.ok = error is None
                built.value = value
                built.error = error
                built.attempts = 1
                built.cached = False
                built.elapsed_s = elapsed
                built.__class__ = ToolResult
                result: ToolResult = built
                if depth or not record:
                    return result
                metrics = plan.metrics
                if metrics is not None:  # (ToolMetrics.record, inlined for the commonest call)
                    if error is None:
                        latencies = metrics.latencies
                        latencies.append(elapsed)
                        if len(latencies) >= BIN_EVERY:
                            metrics.bin()
                    else:
                        metrics.failed_call(error.kind, elapsed)
                if self._observers.subs:
                    self._emit_record(plan, name, call_id, caller, result, None)
                return result
            stats = CallStats()
            result = await self._prepared(
                box, call_id, name, arguments, kwargs, plan, caller, idempotency_key,
                deadline, progress, started, stats, depth,
            )  # fmt: skip
        except UnknownTool as exc:
            result = _result(call_id, name, started, exc.to_error())
        except InvalidArguments as exc:
            result = _result(call_id, name, started, exc.to_error())
        except ToolDefinitionError as exc:
            result = _failed(call_id, name, started, "execution_error", str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a broken backend must still yield a result
            log.exception("toolwire: internal error while executing %s", name)
            result = _failed(
                call_id, name, started, "execution_error",
                f"internal error: {type(exc).__name__}: {exc}",
            )  # fmt: skip
        if record and depth == 0 and (self._metrics is not None or self._observers.subs):
            self._record(plan, name, call_id, caller, result, stats)
        return result

    def _prepared(
        self,
        box: ToolLookup,
        call_id: str,
        name: str,
        arguments: Any,
        kwargs: Any,
        plan: ToolPlan,
        caller: Caller | None,
        idempotency_key: str | None,
        deadline: float | None,
        progress: ProgressCallback | None,
        started: float,
        stats: CallStats,
        depth: int,
    ) -> Awaitable[ToolResult]:
        """The call, prepared, into its chain (the chain's coroutine, or an early result)."""
        total = plan.total_timeout
        if total is not None:
            end = started + total
            deadline = end if deadline is None else min(deadline, end)
        if deadline is not None and _monotonic() >= deadline:
            late = "the deadline passed before the call could start"
            return _ready(_failed(call_id, name, started, "timeout", late))
        prepared = new_prepared(
            call_id, name, arguments, kwargs, plan, caller, idempotency_key, deadline,
            progress, started, box, stats, depth,
        )  # fmt: skip
        return plan.chain_for(idempotency_key is not None)(prepared)

    async def _traced(
        self,
        box: ToolLookup,
        call_id: str,
        name: str,
        arguments: Any,
        caller: Caller | None,
        idempotency_key: str | None,
        deadline: float | None,
        progress: ProgressCallback | None,
    ) -> ToolResult:
        with tool_span(name, call_id) as span:
            result = await self._run_one(
                box, None, call_id, name, arguments, caller, idempotency_key, deadline, progress,
                record=False,
            )  # fmt: skip
            err = result.error
            finish_span(
                span,
                ok=result.ok,
                kind=err.kind if err else None,
                attempts=result.attempts,
                cached=result.cached,
            )
        self._record(self._plans.get(name), name, call_id, caller, result, None)
        return result

    def _redirect(self, call: PreparedCall, name: str) -> Any:
        """A breaker's fallback: ``name`` with the call's arguments, recorded as this call."""
        return self._run_one(
            call.box, None, call.call_id, name, call.arguments, call.caller, None, call.deadline,
            call.progress, depth=1,
        )  # fmt: skip

    async def run(
        self,
        box: ToolLookup,
        calls: Sequence[ToolCall],
        *,
        caller: Caller | None = None,
        deadline: float | None = None,
    ) -> list[ToolResult]:
        """Execute calls concurrently; exactly one result per call, in call order.

        Cancelling the run cancels every call still in flight and re-raises.
        """
        if len(calls) == 1:
            c = calls[0]
            return [
                await self._run_one(
                    box, None, c.id, c.name, c.arguments, caller, None, deadline, None
                )
            ]
        tasks = self._start_all(box, calls, caller, deadline)
        try:
            # awaited in order: a finished task answers at once, and no gather callbacks
            return [await t for t in tasks]
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def _start_all(
        self,
        box: ToolLookup,
        calls: Sequence[ToolCall],
        caller: Caller | None,
        deadline: float | None,
    ) -> list[asyncio.Task[ToolResult]]:
        loop = asyncio.get_running_loop()
        run = self._run_one
        if _EAGER:  # 3.12+: a call that never suspends finishes here, with no scheduling
            return [
                asyncio.Task(
                    run(box, None, c.id, c.name, c.arguments, caller, None, deadline, None),
                    loop=loop,
                    eager_start=True,  # type: ignore[call-arg,unused-ignore]
                )
                for c in calls
            ]
        make = loop.create_task
        return [
            make(run(box, None, c.id, c.name, c.arguments, caller, None, deadline, None))
            for c in calls
        ]

    async def run_iter(
        self,
        box: ToolLookup,
        calls: Sequence[ToolCall],
        *,
        caller: Caller | None = None,
        deadline: float | None = None,
    ) -> AsyncIterator[ToolResult]:
        """Execute calls concurrently, yielding each result as it finishes."""
        tasks = self._start_all(box, calls, caller, deadline)
        try:
            for fut in asyncio.as_completed(tasks):
                yield await fut
        finally:
            pending = [t for t in tasks if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    # -- observation ------------------------------------------------------------------------
    def _record(
        self,
        plan: ToolPlan | None,
        name: str,
        call_id: str,
        caller: Caller | None,
        result: ToolResult,
        stats: CallStats | None,
    ) -> None:
        error = result.error
        metrics = self._metrics
        if metrics is not None:
            handle = plan.metrics if plan is not None else None
            if handle is None:
                handle = metrics.for_tool(UNKNOWN_TOOL if plan is None else plan.name)
            kind = error.kind if error is not None else None
            handle.record(kind, result.elapsed_s, result.attempts, result.cached)
        if self._observers.subs:
            self._emit_record(plan, name, call_id, caller, result, stats)

    def _emit_record(
        self,
        plan: ToolPlan | None,
        name: str,
        call_id: str,
        caller: Caller | None,
        result: ToolResult,
        stats: CallStats | None,
    ) -> None:
        error = result.error
        rec = CallRecord(
            tool=name if plan is None else plan.name,
            call_id=call_id,
            caller=caller.id if caller is not None else None,
            ok=result.ok,
            outcome=error.kind if error is not None else "ok",
            attempts=result.attempts,
            latency_s=result.elapsed_s,
            cached=result.cached,
            deduplicated=stats.deduplicated if stats is not None else False,
            breaker_state=stats.breaker_state if stats is not None else None,
            started_at=time.time() - result.elapsed_s,
        )
        self._observers.emit(rec)

    def _emit_breaker(self, key: str, old: str, new: str) -> None:
        ev = BreakerEvent(key=key, old=old, new=new, at=time.time())
        log.info("toolwire breaker %s: %s -> %s", key, old, new)
        if self._metrics is not None:
            self._metrics.observe_breaker(ev)
        self._observers.emit(ev)


def _context(call_id: str, tool: str, caller: Caller | None, progress: Any) -> Context:
    return Context._for_call(call_id, tool, caller, None, 1, None, progress)


async def _ready(result: ToolResult) -> ToolResult:
    return result


def _result(call_id: str, name: str, started: float, error: ToolError) -> ToolResult:
    return new_result(call_id, name, False, None, error, 0, False, _monotonic() - started)


def _failed(call_id: str, name: str, started: float, kind: Any, message: str) -> ToolResult:
    return _result(call_id, name, started, ToolError(kind=kind, message=message))
