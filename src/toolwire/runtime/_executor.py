"""The executor: runs every call through the policy chain, concurrently, with one result each.

Chain per call, outermost first (DESIGN.md): cache -> idempotency -> rate limit -> breaker ->
concurrency -> retry -> per-attempt timeout -> handler. Arguments are validated before the
chain: invalid arguments are never retried and never count against a breaker. Each layer is
one method; per-call state lives in a fresh :class:`CallState`, shared state in the backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import CoroutineType
from typing import Any, Protocol

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult
from toolwire._context import Caller, Context, ProgressCallback
from toolwire._errors import (
    InvalidArguments,
    ToolDefinitionError,
    ToolError,
    ToolFailure,
    ToolwireError,
    UnknownTool,
)
from toolwire.observe import BreakerEvent, CallRecord, Observers, Subscriber, get_metrics
from toolwire.observe._tracing import finish_span, tool_span, tracing_active
from toolwire.runtime._drive import first_step
from toolwire.runtime._limits import Limiter, backoff_delay
from toolwire.runtime._percall import (
    AttemptTimeout,
    CallState,
    ToolState,
    arguments_tag,
    breaker_outcome,
    cache_key,
    cancelling,
    decode_idem,
    encode_idem,
    idem_key,
    idem_unavailable,
    lease,
)
from toolwire.runtime._policy import Breaker, FallbackTool, Policy, Retry
from toolwire.runtime._process import ProcessPool
from toolwire.runtime._resolve import check_policy, effective_policy
from toolwire.runtime._shared import _POLL, _cache_bytes, run_shared, uses_shared_state
from toolwire.state import BackendUnavailable, BreakerState, MemoryBackend
from toolwire.state._base import StateBackend

log = logging.getLogger("toolwire.runtime")

_NEVER_RETRY = frozenset(
    {"invalid_arguments", "too_large", "cancelled", "circuit_open", "unknown_tool", "forbidden",
     "unauthorized", "approval_required"}
)  # fmt: skip


class ToolLookup(Protocol):
    def get(self, name: str) -> Any: ...


class Executor:
    """Runs tool calls concurrently under their policies, always one result per call.

    Policy precedence (lowest first): ``default_policy``, the tool's own ``policy`` from code,
    then ``policies`` entries whose glob matches the tool name (less specific first).

    At most ``max_concurrency`` calls run at once (1,024 by default: async calls are cheap,
    and a lower cap turns a large fan-out into waves); up to ``max_queue`` more wait for a slot
    (16,384 by default), and beyond that calls are refused at once as ``rate_limited`` rather
    than piling up without bound.

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
        self._global = Limiter(max_concurrency, max_queue, name="the tool runtime")
        self._thread_workers = thread_workers
        self._threads: ThreadPoolExecutor | None = None
        self._process_workers = process_workers
        self._procs: ProcessPool | None = None
        self._policies = dict(policies or {})
        self._default_policy = default_policy
        self._states: dict[str, ToolState] = {}
        # calls in flight by key; the future is made when a second call comes to wait
        self._flights: dict[str, asyncio.Future[ToolResult] | None] = {}
        self._observers = Observers()
        if on_record is not None:
            self._observers.subscribe(on_record)
        self._metrics = get_metrics()
        self._idem_ttl = idempotency_ttl
        self._owner = uuid.uuid4().hex

    # -- lifecycle --------------------------------------------------------------------------
    async def __aenter__(self) -> Executor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the worker processes and threads (running thread calls finish on their own)."""
        if self._procs is not None:
            await self._procs.aclose()
            self._procs = None
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Receive every ``CallRecord`` and ``BreakerEvent``; returns the unsubscribe function."""
        return self._observers.subscribe(callback)

    @property
    def process_pool(self) -> ProcessPool:
        if self._procs is None:
            self._procs = ProcessPool(self._process_workers)
        return self._procs

    # -- admin ------------------------------------------------------------------------------
    async def breaker_state(self, key: str) -> BreakerState:
        """The state of the breaker of a tool (or shared ``Breaker.key``)."""
        return await self.backend.breaker_state(key)

    async def force_breaker(self, key: str, state: BreakerState | None) -> None:
        """Force ``forced_open`` or ``disabled``; ``None``/``closed`` resets it."""
        await self.backend.breaker_force(key, state)
        self._emit_breaker(key, "?", state or "closed")

    async def invalidate(
        self, tool: Any, arguments: Mapping[str, Any] | str | None = None, *, caller: Any = None
    ) -> int:
        """Drop cached results of ``tool`` (a Tool or a name): all of them, or one call's."""
        name = tool if isinstance(tool, str) else tool.name
        if arguments is None:
            return await self.backend.cache_delete(f"{name}:*")
        if isinstance(tool, str):
            st = self._states.get(name)
            tool = st.tool if st is not None else None
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

    def _state_for(self, tool: Any) -> ToolState:
        st = self._states.get(tool.name)
        if st is None or st.tool is not tool:
            policy = self.policy_for(tool)
            check_policy(tool, policy)
            st = self._states[tool.name] = ToolState(tool, policy)
        return st

    # -- entry points -----------------------------------------------------------------------
    async def call(
        self,
        box: ToolLookup,
        call: ToolCall,
        *,
        caller: Caller | None = None,
        idempotency_key: str | None = None,
        deadline: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> ToolResult:
        """Execute one call; failures come back as a result with an error kind.

        ``progress`` receives the tool's ``ctx.report_progress(...)`` reports (a transport
        forwards them, e.g. as MCP progress notifications). Tools isolated in a worker
        process cannot report progress: the callback stays in this process.
        """
        c = CallState(box, call, caller, time.monotonic())
        c.idem_key = idempotency_key
        c.deadline = deadline
        c.progress = progress
        if tracing_active():
            with tool_span(call.name, call.id) as span:
                result = await self._safe(c)
                err = result.error
                finish_span(
                    span,
                    ok=result.ok,
                    kind=err.kind if err else None,
                    attempts=result.attempts,
                    cached=result.cached,
                )
        else:
            result = await self._safe(c)
        if self._observers or self._metrics is not None:
            self._record(c, result)
        return result

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
            return [await self.call(box, calls[0], caller=caller, deadline=deadline)]
        tasks = [
            asyncio.ensure_future(self.call(box, c, caller=caller, deadline=deadline))
            for c in calls
        ]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def run_iter(
        self,
        box: ToolLookup,
        calls: Sequence[ToolCall],
        *,
        caller: Caller | None = None,
        deadline: float | None = None,
    ) -> AsyncIterator[ToolResult]:
        """Execute calls concurrently, yielding each result as it finishes."""
        tasks = [
            asyncio.ensure_future(self.call(box, c, caller=caller, deadline=deadline))
            for c in calls
        ]
        try:
            for fut in asyncio.as_completed(tasks):
                yield await fut
        finally:
            pending = [t for t in tasks if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    # -- the chain --------------------------------------------------------------------------
    async def _safe(self, c: CallState) -> ToolResult:
        try:
            early = self._prepare(c)
            if early is not None:
                return early
            # Straight to the first layer the policy needs: each skipped layer is a coroutine
            # less per call.
            if self.backend.shared and uses_shared_state(c):
                return await run_shared(self, c)  # one store step before the call, one after
            if c.policy.cache is None:
                return await self._after_cache(c)
            # in-process cache (a shared store went above): the lookup and the store are
            # synchronous steps around the rest of the chain, with no coroutine of their own
            begun = self._cache_begin(c) if self.backend.cache_nowait else None
            if begun is None:
                return await self._cached(c)
            if not isinstance(begun, str):
                return begun  # a hit
            flight_key = "c:" + begun
            try:
                result = await self._after_cache(c)
                if result.ok and c.invoked:  # only what the handler produced (not a fallback)
                    data = _cache_bytes(result)
                    if data is not None:
                        cache = c.policy.cache
                        # stored before the flight ends, so later identical calls hit
                        try:  # noqa: SIM105 - contextlib.suppress costs ~0.3 us a call
                            self.backend.cache_set_nowait(begun, data, cache.ttl, cache.max_entries)
                        except BackendUnavailable:
                            pass
            except BaseException:
                fut = self._flights.pop(flight_key)
                if fut is not None:
                    fut.cancel()  # its waiters run the call themselves
                raise
            fut = self._flights.pop(flight_key)
            if fut is not None:
                fut.set_result(result)
            return result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a broken backend must still yield a result
            log.exception("toolwire: internal error while executing %s", c.call.name)
            return c.fail("execution_error", f"internal error: {type(exc).__name__}: {exc}")

    def _after_cache(self, c: CallState) -> Coroutine[Any, Any, ToolResult]:
        """The first layer after the cache that this call needs."""
        if c.idem_key is not None:
            return self._deduped(c)
        return self._after_idem(c)

    def _after_idem(self, c: CallState) -> Coroutine[Any, Any, ToolResult]:
        """The first layer after idempotency that this call needs (``_guarded`` otherwise)."""
        policy = c.policy
        if policy.rate_limit is not None:
            return self._guarded(c)
        if policy.breaker is not None:
            return self._breaker(c, policy.breaker)
        return self._limited(c)

    def _prepare(self, c: CallState) -> ToolResult | None:
        """Find the tool, resolve its policy, validate: a result when the call ends here."""
        try:
            c.tool = c.box.get(c.call.name)
        except UnknownTool as exc:
            return c.result(error=exc.to_error())
        try:
            st = c.state = self._state_for(c.tool)
        except ToolDefinitionError as exc:
            return c.fail("execution_error", str(exc))
        c.policy = st.policy
        try:
            c.kwargs = c.tool.validate(c.call.arguments)
        except InvalidArguments as exc:
            return c.result(error=exc.to_error())
        total = c.policy.total_timeout
        if total is not None:
            end = c.started + total
            c.deadline = end if c.deadline is None else min(c.deadline, end)
        if c.deadline is not None and time.monotonic() >= c.deadline:
            return c.fail("timeout", "the deadline passed before the call could start")
        return None

    async def _join(self, flight_key: str, c: CallState) -> ToolResult | None:
        """Wait for the same call already in flight here; None if it was abandoned."""
        flights = self._flights
        if flight_key not in flights:
            return None
        flight = flights[flight_key]
        if flight is None:  # the first to wait for this flight
            flight = flights[flight_key] = asyncio.get_running_loop().create_future()
        try:
            shared = await asyncio.shield(flight)
        except asyncio.CancelledError:
            if flight.cancelled() and not cancelling():
                return None
            raise
        c.cached = True
        return c.result(value=shared.value, error=shared.error)

    async def _single_flight(
        self, flight_key: str, c: CallState, body: Callable[[], Any]
    ) -> ToolResult:
        while flight_key in self._flights:  # (a miss pays no coroutine for the join)
            joined = await self._join(flight_key, c)
            if joined is not None:
                return joined
        self._flights[flight_key] = None
        try:
            result: ToolResult = await body()
        except BaseException:
            fut = self._flights.pop(flight_key)
            if fut is not None:
                fut.cancel()
            raise
        fut = self._flights.pop(flight_key)
        if fut is not None:
            fut.set_result(result)
        return result

    # cache ------------------------------------------------------------------------------
    async def _cached(self, c: CallState) -> ToolResult:
        st = c.state
        assert st is not None
        caller_id = c.caller.id if c.caller is not None else None
        try:
            key = cache_key(
                st.name, c.kwargs, caller_id, st.cache_per_caller, local=not self.backend.shared
            )
        except (TypeError, ValueError):  # arguments without a JSON form: no caching
            return await self._deduped(c)
        if not self.backend.shared:
            # in memory the lookup never suspends, so "miss, then register the flight" is atomic
            try:
                data = await self.backend.cache_get(key)
            except BackendUnavailable:
                data = None  # a cache outage is a miss, whatever fail_open says
            if data is not None:
                c.cached = True
                return c.result(value=_json.loads(data))
        return await self._single_flight("c:" + key, c, lambda: self._fill(c, key))

    def _cache_begin(self, c: CallState) -> ToolResult | str | None:
        """The in-process (``cache_nowait``) lookup: a hit, or the key of the cache flight
        this call now owns, or None to take the general path (``_cached``): the same call is
        in flight here already, or the arguments have no JSON form."""
        cache = c.policy.cache
        st = c.state
        assert cache is not None and st is not None
        caller_id = c.caller.id if c.caller is not None else None
        try:
            key = cache_key(st.name, c.kwargs, caller_id, st.cache_per_caller, local=True)
        except (TypeError, ValueError):
            return None
        try:
            data = self.backend.cache_get_nowait(key)
        except BackendUnavailable:
            data = None  # a cache outage is a miss, whatever fail_open says
        if data is not None:
            c.cached = True
            return c.result(value=_json.loads(data))
        flight_key = "c:" + key
        if flight_key in self._flights:
            return None
        self._flights[flight_key] = None
        return key

    async def _fill(self, c: CallState, key: str) -> ToolResult:
        """Run the call once for every waiter here and, on a shared store, elsewhere too."""
        cache = c.policy.cache
        assert cache is not None
        locked = False
        if self.backend.shared:
            claim_s = lease(c)
            while True:  # one round trip: the value, or the right to compute it
                try:
                    data, locked = await self.backend.cache_get_or_lock(key, self._owner, claim_s)
                except BackendUnavailable:
                    break
                if data is not None:
                    c.cached = True
                    return c.result(value=_json.loads(data))
                if locked or (c.deadline is not None and time.monotonic() >= c.deadline):
                    break
                await asyncio.sleep(_POLL)  # another process is computing it
        try:
            result = await self._after_cache(c)
        except BaseException:
            if locked:
                await self._release("c:" + key)
            raise
        data = None
        if result.ok and c.invoked:  # only what the handler produced (not a fallback)
            data = _cache_bytes(result)
        try:
            if data is not None and locked:
                await self.backend.cache_set_unlock(
                    key, data, cache.ttl, cache.max_entries, self._owner
                )
            elif data is not None:
                await self.backend.cache_set(key, data, cache.ttl, cache.max_entries)
            elif locked:
                await self.backend.lock_release("c:" + key, self._owner)
        except BackendUnavailable:
            pass
        return result

    async def _release(self, key: str) -> None:
        with contextlib.suppress(BackendUnavailable):
            await self.backend.lock_release(key, self._owner)

    # idempotency -------------------------------------------------------------------------
    async def _deduped(self, c: CallState) -> ToolResult:
        if c.idem_key is None:
            return await self._after_idem(c)
        key = idem_key(c.tool.name, c.caller.id if c.caller is not None else None, c.idem_key)
        # a duplicate with other arguments does not join this flight: it waits for the
        # record and is refused (decode_idem)
        flight = f"i:{key}:{arguments_tag(c.kwargs).decode()}"
        return await self._single_flight(flight, c, lambda: self._once(c, key))

    async def _once(self, c: CallState, key: str) -> ToolResult:
        while True:
            try:
                rec = await self.backend.idem_begin(key, self._owner, lease(c))
            except BackendUnavailable:
                # never fail open: running without the record could run the call twice
                return idem_unavailable(c)
            except ToolFailure as exc:  # the store refused a new key (full of claims)
                return c.result(error=exc.to_error())
            if rec.status == "done":
                assert rec.data is not None
                return decode_idem(c, rec.data)
            if rec.status == "new":
                break
            if c.deadline is not None and time.monotonic() >= c.deadline:
                return c.fail("timeout", "a duplicate call with this idempotency key is running")
            await asyncio.sleep(_POLL)
        try:
            result = await self._after_idem(c)
        except BaseException:
            with contextlib.suppress(BackendUnavailable):
                await self.backend.idem_abandon(key, self._owner)
            raise
        with contextlib.suppress(BackendUnavailable):
            if c.invoked:
                await self.backend.idem_finish(
                    key, self._owner, encode_idem(c, result), self._idem_ttl
                )
            else:  # refused before the handler (rate limit, breaker): the key may run later
                await self.backend.idem_abandon(key, self._owner)
        return result

    # rate limit + breaker ----------------------------------------------------------------
    async def _guarded(self, c: CallState) -> ToolResult:
        policy = c.policy
        rl = policy.rate_limit
        if rl is not None:
            key = c.tool.name
            if rl.per_caller and c.caller is not None:
                key = f"{key}:{c.caller.id}"
            max_wait = rl.max_wait
            if c.deadline is not None:
                max_wait = max(0.0, min(max_wait, c.deadline - time.monotonic()))
            try:
                decision = await self.backend.rate_acquire(key, rl.rate, rl.per, max_wait)
            except BackendUnavailable:
                if policy.fail_open is False:
                    return c.fail(
                        "rate_limited",
                        "the rate limiter is unavailable; retry later",
                        retry_after=1.0,
                    )
            else:
                if not decision.allowed:
                    return self._rate_refused(c, decision.retry_after)
                if decision.wait > 0:
                    await asyncio.sleep(decision.wait)
        if policy.breaker is None:
            return await self._limited(c)
        return await self._breaker(c, policy.breaker)

    def _rate_refused(self, c: CallState, retry_after: float | None) -> ToolResult:
        rl = c.policy.rate_limit
        assert rl is not None
        return c.fail(
            "rate_limited",
            f"`{c.tool.name}` is over its rate limit of {rl.rate:g} per {rl.per:g} s",
            retry_after=retry_after,
        )

    async def _breaker(self, c: CallState, br: Breaker) -> ToolResult:
        st = c.state
        assert st is not None and st.breaker_cfg is not None
        backend = self.backend
        try:
            adm = backend.breaker_acquire_nowait(st.breaker_key, st.breaker_cfg)
            if adm is None:
                adm = await backend.breaker_acquire(st.breaker_key, st.breaker_cfg)
        except BackendUnavailable:
            if c.policy.fail_open is not False:
                return await self._limited(c)
            return c.fail("circuit_open", "the breaker state is unavailable", retry_after=1.0)
        c.breaker_state = adm.state
        if not adm.allowed:
            return await self._rejected(c, br, adm.retry_after)
        admitted = time.monotonic() if br.slow_call_s is not None else 0.0
        result: ToolResult | None = None
        try:
            result = await self._limited(c)
        finally:
            outcome = breaker_outcome(c, br, result)
            slow = br.slow_call_s is not None and time.monotonic() - admitted >= br.slow_call_s
            try:
                tr = backend.breaker_record_nowait(
                    st.breaker_key, st.breaker_cfg, adm.generation, outcome, slow
                )
                if tr is None:
                    tr = await backend.breaker_record(
                        st.breaker_key, st.breaker_cfg, adm.generation, outcome, slow
                    )
            except BackendUnavailable:
                pass
            else:
                if tr.new != tr.old:
                    self._emit_breaker(st.breaker_key, tr.old, tr.new)
        return result

    async def _rejected(self, c: CallState, br: Breaker, retry_after: float | None) -> ToolResult:
        fb = br.fallback
        if isinstance(fb, FallbackTool) and c.fallback_depth == 0:
            redirected = ToolCall(id=c.call.id, name=fb.name, arguments=c.call.arguments)
            inner = CallState(c.box, redirected, c.caller, c.started)
            inner.deadline = c.deadline
            inner.fallback_depth = 1
            res = await self._safe(inner)
            return ToolResult(
                call_id=c.call.id,
                name=c.call.name,
                ok=res.ok,
                value=res.value,
                error=res.error,
                attempts=res.attempts,
                cached=res.cached,
                elapsed_s=time.monotonic() - c.started,
            )
        if fb is not None and not isinstance(fb, FallbackTool):
            return c.result(value=fb)
        wait = f" Retry in {retry_after:.1f} s." if retry_after else ""
        return c.fail(
            "circuit_open",
            f"`{c.tool.name}` is failing and temporarily disabled (circuit open).{wait}",
            retry_after=retry_after,
        )

    # concurrency -------------------------------------------------------------------------
    def _limited(self, c: CallState) -> Coroutine[Any, Any, ToolResult]:
        st = c.state
        assert st is not None
        local = st.limiter
        # Uncontended (the common case): take both slots here and go straight to the retry
        # loop, which gives them back; one coroutine less per call.
        if local is None or local.try_acquire():
            if self._global.try_acquire():
                return self._retrying(c, local)
            if local is not None:
                local.release()  # no waiters (try_acquire said so): just frees the slot
        return self._limited_wait(c, local)

    async def _limited_wait(self, c: CallState, local: Limiter | None) -> ToolResult:
        try:
            if local is not None and not local.try_acquire():
                await local.acquire(c.deadline)
            if not self._global.try_acquire():
                try:
                    await self._global.acquire(c.deadline)
                except BaseException:
                    if local is not None:
                        local.release()
                    raise
        except ToolFailure as exc:
            return c.result(error=exc.to_error())
        return await self._retrying(c, local)

    # retry -------------------------------------------------------------------------------
    async def _retrying(self, c: CallState, local: Limiter | None) -> ToolResult:
        """The retry loop, holding the global slot and ``local``'s (given back at the end)."""
        try:
            retry = c.policy.retry
            st = c.state
            assert st is not None
            if st.budget is not None:
                st.budget.deposit()
            while True:
                c.attempts += 1
                try:
                    value, rest = self._start(c)
                    if rest is not None:
                        value = await rest
                except asyncio.CancelledError as exc:
                    if cancelling():
                        raise
                    error = ToolError(kind="cancelled", message="the call was cancelled")
                    c.exc = exc
                except ToolwireError as exc:
                    error = exc.to_error()
                    c.exc = exc
                except Exception as exc:
                    error = ToolError(
                        kind="execution_error",
                        message=f"{type(exc).__name__}: {exc}",
                        details={"type": type(exc).__name__},
                    )
                    c.exc = exc
                else:
                    return c.result(value=value)
                if retry is None or not self._may_retry(c, retry, error):
                    return c.result(error=error)
                delay = backoff_delay(
                    c.attempts, retry.backoff, retry.max_backoff, error.retry_after
                )
                now = time.monotonic()
                if c.deadline is not None and now + delay >= c.deadline:
                    return c.result(error=error)
                if retry.max_elapsed is not None and now + delay - c.started > retry.max_elapsed:
                    return c.result(error=error)
                if st.budget is not None and not st.budget.withdraw():
                    return c.result(error=error)
                await asyncio.sleep(delay)
        finally:
            self._global.release()
            if local is not None:
                local.release()

    def _may_retry(self, c: CallState, retry: Retry, error: ToolError) -> bool:
        if c.attempts >= retry.attempts or error.kind in _NEVER_RETRY:
            return False
        st = c.state
        assert st is not None
        if not st.safe and c.idem_key is None:
            return False  # running a side effect twice is worse than failing once
        exc = c.exc
        for item in retry.retry_on:
            if isinstance(item, str):
                if item == error.kind:
                    return True
            elif (exc is not None and isinstance(exc, item)) or (
                issubclass(item, TimeoutError) and error.kind == "timeout"
            ):
                return True
        return False

    # one attempt -------------------------------------------------------------------------
    def _start(self, c: CallState) -> tuple[Any, Awaitable[Any] | None]:
        """Begin one attempt: ``(value, None)`` when it finished at once (no coroutine, no
        timer), else ``(None, awaitable for the rest)`` under the attempt's timeout."""
        tool = c.tool
        handler = tool.require_handler()
        now = time.monotonic()
        timeout = c.policy.timeout
        until = now + timeout if timeout is not None else None
        if c.deadline is not None and (until is None or c.deadline < until):
            until = c.deadline
        ctx: Context | None = None
        kwargs = c.kwargs
        if tool.context_params:
            ctx = Context._for_call(
                c.call.id, tool.name, c.caller, until, c.attempts, c.idem_key, c.progress
            )
            kwargs = tool.bind(kwargs, ctx)
        c.invoked = True
        isolation = tool.isolation
        if isolation == "process":
            limit = None if until is None else max(0.0, until - now)
            return None, self._in_process(tool, handler, c.kwargs, ctx, limit)
        if tool.is_async:
            aw: Any = handler(**kwargs)
            if until is None:
                return None, aw  # no timer to save: awaited natively, no stepping wrapper
            if type(aw) is CoroutineType:
                value, rest = first_step(aw)
                if rest is None:
                    return value, None  # finished without suspending: no timer needed
                aw = rest
        elif isolation == "inline":
            return handler(**kwargs), None
        else:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self._thread_workers, "toolwire")
            run = contextvars.copy_context().run
            aw = asyncio.get_running_loop().run_in_executor(
                self._threads, functools.partial(run, handler, **kwargs)
            )
        if until is None:
            return None, aw
        return None, self._timed(aw, tool, ctx, now, until)

    async def _in_process(
        self, tool: Any, handler: Any, kwargs: Any, ctx: Context | None, limit: float | None
    ) -> Any:
        try:
            return await self.process_pool.run(handler, kwargs, ctx, tool.context_params, limit)
        except TimeoutError:
            raise AttemptTimeout(
                "timeout",
                f"`{tool.name}` did not finish within {limit:.3g} s and was stopped",
            ) from None

    async def _timed(
        self, aw: Awaitable[Any], tool: Any, ctx: Context | None, now: float, until: float
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
                "timeout", f"`{tool.name}` did not finish within {until - now:.3g} s"
            ) from None
        except asyncio.CancelledError:
            if ctx is not None:
                ctx.cancel_event.set()
            raise

    # -- observation ------------------------------------------------------------------------
    def _record(self, c: CallState, result: ToolResult) -> None:
        outcome = "ok" if result.error is None else result.error.kind
        if self._metrics is not None:
            self._metrics.observe(
                c.call.name, outcome, result.elapsed_s, result.attempts, result.cached
            )
        if not self._observers:
            return
        rec = CallRecord(
            tool=c.call.name,
            call_id=c.call.id,
            caller=c.caller.id if c.caller is not None else None,
            ok=result.ok,
            outcome=outcome,
            attempts=result.attempts,
            latency_s=result.elapsed_s,
            cached=result.cached,
            deduplicated=c.deduplicated,
            breaker_state=c.breaker_state,
            started_at=time.time() - result.elapsed_s,
        )
        self._observers.emit(rec)

    def _emit_breaker(self, key: str, old: str, new: str) -> None:
        ev = BreakerEvent(key=key, old=old, new=new, at=time.time())
        log.info("toolwire breaker %s: %s -> %s", key, old, new)
        if self._metrics is not None:
            self._metrics.observe_breaker(ev)
        self._observers.emit(ev)
