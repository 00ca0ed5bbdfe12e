"""The shared-store leg of the chain: cache, idempotency, rate limit, breaker and concurrency.

On a shared backend (Redis) each of these policies costs round trips, so a call asks the
backend once before it runs (``StateBackend.admit``: cache lookup/lock, idempotency claim,
rate-limit slot, breaker admission and concurrency slot, decided in chain order in one step)
and once after (``StateBackend.settle``: breaker record, cache store/unlock, idempotency
record, slot release). The memory backend keeps the per-layer path in ``_executor.py``, whose
steps never suspend (and whose concurrency limit is the in-process ``Limiter``).

Outcomes match the per-layer path: a cache hit or an idempotent duplicate takes no rate-limit
slot and no breaker trial; a refusal gives back the claims taken before it; an unreachable
store is a cache miss and fails the other policies open or closed per ``Policy.fail_open``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire.runtime._percall import (
    CallState,
    arguments_tag,
    breaker_outcome,
    cache_key,
    decode_idem,
    encode_idem,
    idem_key,
    idem_unavailable,
    lease,
)
from toolwire.runtime._shared_slots import Slot, limited, new_holder, unavailable
from toolwire.state import BackendUnavailable, CallPlan, Clearance, Settlement

if TYPE_CHECKING:
    from toolwire.runtime._executor import Executor

_POLL = 0.02  # seconds between looks at another process's in-flight call


def uses_shared_state(c: CallState) -> bool:
    p = c.policy
    return (
        p.cache is not None
        or c.idem_key is not None
        or p.rate_limit is not None
        or p.breaker is not None
        or p.concurrency is not None
    )


async def run_shared(ex: Executor, c: CallState) -> ToolResult:
    """Run ``c`` with at most one backend step before the handler and one after."""
    cache = c.policy.cache
    ckey: str | None = None
    if cache is not None:
        caller_id = c.caller.id if c.caller is not None else None
        try:
            per_caller = c.state is not None and c.state.cache_per_caller
            ckey = cache_key(c.tool.name, c.kwargs, caller_id, per_caller)
        except (TypeError, ValueError):  # arguments without a JSON form: no caching
            ckey = None
    ikey: str | None = None
    if c.idem_key is not None:
        ikey = idem_key(c.tool.name, c.caller.id if c.caller is not None else None, c.idem_key)

    # one flight per cache key (outer) and per idempotency key here; other processes are
    # coordinated by the claims ``admit`` takes
    def body() -> Any:
        return _admitted(ex, c, ckey, ikey)

    run: Callable[[], Any] = body
    if ikey is not None:
        # a duplicate with other arguments waits for the record and is refused instead
        run = _flight(ex, f"i:{ikey}:{arguments_tag(c.kwargs).decode()}", c, body)
    if ckey is not None:
        run = _flight(ex, "c:" + ckey, c, run)
    result: ToolResult = await run()
    return result


def _flight(ex: Executor, key: str, c: CallState, body: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: ex._single_flight(key, c, body)


def _plan(ex: Executor, c: CallState, ckey: str | None, ikey: str | None, holder: str) -> CallPlan:
    policy = c.policy
    st = c.state
    assert st is not None
    rl = policy.rate_limit
    rkey: str | None = None
    max_wait = 0.0
    if rl is not None:
        rkey = c.tool.name
        if rl.per_caller and c.caller is not None:
            rkey = f"{rkey}:{c.caller.id}"
        max_wait = rl.max_wait
        if c.deadline is not None:
            max_wait = max(0.0, min(max_wait, c.deadline - time.monotonic()))
    cache = policy.cache
    return CallPlan(
        owner=ex._owner,
        lease=lease(c),
        cache_key=ckey,
        cache_ttl=cache.ttl if cache is not None else 0.0,
        cache_max_entries=cache.max_entries if cache is not None else 0,
        idem_key=ikey,
        idem_ttl=ex._idem_ttl,
        rate_key=rkey,
        rate=rl.rate if rl is not None else 1.0,
        per=rl.per if rl is not None else 1.0,
        max_wait=max_wait,
        breaker_key=st.breaker_key if st.breaker_cfg is not None else None,
        breaker=st.breaker_cfg,
        slot_key=c.tool.name if policy.concurrency is not None else None,
        slot_holder=holder,
        slot_limit=policy.concurrency or 1,
        slot_queue=policy.max_queue,
    )


async def _admitted(ex: Executor, c: CallState, ckey: str | None, ikey: str | None) -> ToolResult:
    policy = c.policy
    br = policy.breaker
    holder = new_holder(ex) if policy.concurrency is not None else ""
    while True:
        plan = _plan(ex, c, ckey, ikey, holder)
        try:
            clr = await ex.backend.admit(plan)
        except BackendUnavailable:
            return await _unadmitted(ex, c, plan)
        stop = clr.stop
        if stop is None:
            break
        if stop == "cache_hit":
            assert clr.data is not None
            c.cached = True
            return c.result(value=_json.loads(clr.data))
        if stop == "idem_done":
            assert clr.data is not None
            return decode_idem(c, clr.data)
        if stop == "rate_limited":
            return ex._rate_refused(c, clr.retry_after)
        if stop == "circuit_open":
            assert br is not None and clr.breaker is not None
            c.breaker_state = clr.breaker.state
            return await ex._rejected(c, br, clr.breaker.retry_after)
        # another owner is filling this cache key or running this idempotency key
        if c.deadline is not None and time.monotonic() >= c.deadline:
            if stop == "idem_pending":
                return c.fail("timeout", "a duplicate call with this idempotency key is running")
            ckey = None  # out of time to wait for the other filler: run without the cache
            continue
        await asyncio.sleep(_POLL)
    return await _cleared(ex, c, plan, clr)


async def _cleared(ex: Executor, c: CallState, plan: CallPlan, clr: Clearance) -> ToolResult:
    br = c.policy.breaker
    adm = clr.breaker
    result: ToolResult | None = None
    admitted = 0.0
    slot = Slot(clr.slot)
    try:
        if clr.wait > 0:
            await asyncio.sleep(clr.wait)
        if br is not None and adm is None and plan.breaker_key is not None:
            # the rate limit made us wait: ask the breaker now, not before the wait
            assert plan.breaker is not None
            try:
                adm = await ex.backend.breaker_acquire(plan.breaker_key, plan.breaker)
            except BackendUnavailable:
                if c.policy.fail_open is False:
                    result = c.fail(
                        "circuit_open", "the breaker state is unavailable", retry_after=1.0
                    )
            else:
                c.breaker_state = adm.state
                if not adm.allowed:
                    result = await ex._rejected(c, br, adm.retry_after)
                    adm = None
        elif adm is not None:
            c.breaker_state = adm.state
        if result is None:
            admitted = time.monotonic() if br is not None and br.slow_call_s is not None else 0.0
            if plan.slot_key is None:
                result = await ex._limited(c)
            else:
                result = await limited(ex, c, plan, slot)
    finally:
        await _settle(ex, c, plan, clr, adm, result, admitted, slot.taken)
    return result


async def _settle(
    ex: Executor,
    c: CallState,
    plan: CallPlan,
    clr: Clearance,
    adm: Any,
    result: ToolResult | None,
    admitted: float,
    release: bool,
) -> None:
    br = c.policy.breaker
    invoked = result is not None and c.invoked
    value = None
    if invoked and result is not None and result.ok and plan.cache_key is not None:
        value = _cache_bytes(result)
    idem = None
    if clr.idem_claimed and invoked and result is not None:
        idem = encode_idem(c, result)
    generation = None
    outcome: Any = "ignore"
    slow = False
    if adm is not None and br is not None:
        generation = adm.generation
        outcome = breaker_outcome(c, br, result)
        slow = br.slow_call_s is not None and time.monotonic() - admitted >= br.slow_call_s
    if (
        generation is None
        and not clr.cache_locked
        and not clr.idem_claimed
        and value is None
        and not release
    ):
        return
    try:
        tr = await ex.backend.settle(
            plan,
            Settlement(
                cache_locked=clr.cache_locked,
                cache_value=value,
                idem_claimed=clr.idem_claimed,
                idem_data=idem,
                breaker_generation=generation,
                outcome=outcome,
                slow=slow,
                slot_release=release,
            ),
        )
    except BackendUnavailable:
        return  # claims expire with their lease; a lost breaker record only delays tripping
    if tr is not None and tr.new != tr.old and plan.breaker_key is not None:
        ex._emit_breaker(plan.breaker_key, tr.old, tr.new)


async def _unadmitted(ex: Executor, c: CallState, plan: CallPlan) -> ToolResult:
    """The store is unreachable: a cache miss; an idempotency key refuses the call; the other
    policies fail open or closed."""
    policy = c.policy
    if plan.idem_key is not None:
        # whatever fail_open says: running without the record could run the call twice
        return idem_unavailable(c)
    if policy.fail_open is False:
        if plan.rate_key is not None:
            return c.fail(
                "rate_limited", "the rate limiter is unavailable; retry later", retry_after=1.0
            )
        if plan.breaker_key is not None:
            return c.fail("circuit_open", "the breaker state is unavailable", retry_after=1.0)
        if plan.slot_key is not None:
            return unavailable(c)
    result = await ex._limited(c)  # open: the concurrency limit is this process's own
    if plan.cache_key is not None and result.ok and c.invoked:
        value = _cache_bytes(result)
        if value is not None:
            with contextlib.suppress(BackendUnavailable):
                await ex.backend.settle(plan, Settlement(cache_value=value))
    return result


def _cache_bytes(result: ToolResult) -> bytes | None:
    try:
        return _json.dumps_bytes(result.value)
    except (TypeError, ValueError):
        return None  # no JSON form: returned, not cached
