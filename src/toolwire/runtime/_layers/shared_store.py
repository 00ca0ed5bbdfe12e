"""The shared-store layer: cache, idempotency, rate limit, breaker and concurrency slot on a
shared backend (Redis), in one admission before the call and one write behind it.

On a shared store each of these policies would cost round trips, so on such a backend this
one layer takes the place of their in-process layers: the call asks the store once before it
runs (``StateBackend.admit``: cache lookup/lock, idempotency claim, rate-limit slot, breaker
admission and concurrency slot, decided in chain order in one step, with this executor's
queued writes sent ahead of it in the same round trip) and queues what it writes after
(``Settlement``: breaker record, cache store/unlock, idempotency record, slot release) to be
written behind the answer (``runtime._settle``). So a call has at most one round trip on its
critical path; more only while it waits on purpose (another process filling the same cache
entry or running the same idempotency key, a queued concurrency slot, the breaker asked again
after a rate-limit wait).

Outcomes match the in-process layers: a cache hit or an idempotent duplicate takes no
rate-limit slot and no breaker trial; a refusal gives back the claims taken before it; an
unreachable store is a cache miss, refuses a call with an idempotency key (``unavailable``)
and fails the other policies open or closed per ``Policy.fail_open``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire.runtime._keys import (
    cache_bytes,
    call_cache_key,
    decode_idem,
    encode_idem,
    idem_flight,
    idem_key,
    idem_unavailable,
)
from toolwire.runtime._layers import breaker as breaker_layer
from toolwire.runtime._layers import rate_limit
from toolwire.runtime._layers import shared_slots as slots
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._outcomes import finish, lease, refuse
from toolwire.runtime._plan import PreparedCall, ToolPlan
from toolwire.state import Admission, BackendUnavailable, CallPlan, Clearance, Settlement

POLL = 0.02  # seconds between looks at another process's in-flight call


class SharedStore(Layer):
    __slots__ = ()

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        p = plan.policy
        return (
            keyed
            or p.cache is not None
            or p.rate_limit is not None
            or p.breaker is not None
            or p.concurrency is not None
        )

    async def __call__(self, call: PreparedCall) -> ToolResult:
        ckey = call_cache_key(call, local=False) if self.plan.policy.cache is not None else None
        if ckey is None:
            return await self._keyed(call, None)
        # one flight per cache key here (outer) and per idempotency key (inner); other
        # processes are coordinated by the claims the admission takes
        return await self.services.flights.run("c:" + ckey, call, lambda: self._keyed(call, ckey))

    async def _keyed(self, call: PreparedCall, ckey: str | None) -> ToolResult:
        if call.idempotency_key is None:
            return await self._admitted(call, ckey, None)
        ikey = idem_key(self.plan.name, call.caller_id, call.idempotency_key)
        return await self.services.flights.run(
            idem_flight(call, ikey), call, lambda: self._admitted(call, ckey, ikey)
        )

    def _plan(
        self, call: PreparedCall, ckey: str | None, ikey: str | None, owner: str, holder: str
    ) -> CallPlan:
        plan = self.plan
        policy = plan.policy
        rl = policy.rate_limit
        cache = policy.cache
        return CallPlan(
            owner=owner,
            lease=lease(call),
            cache_key=ckey,
            cache_ttl=cache.ttl if cache is not None else 0.0,
            cache_max_entries=cache.max_entries if cache is not None else 0,
            idem_key=ikey,
            idem_ttl=self.services.idempotency_ttl,
            rate_key=rate_limit.rate_key(call, rl) if rl is not None else None,
            rate=rl.rate if rl is not None else 1.0,
            per=rl.per if rl is not None else 1.0,
            max_wait=rate_limit.max_wait(call, rl) if rl is not None else 0.0,
            breaker_key=plan.breaker_key if plan.breaker_cfg is not None else None,
            breaker=plan.breaker_cfg,
            slot_key=plan.name if policy.concurrency is not None else None,
            slot_holder=holder,
            slot_limit=policy.concurrency or 1,
            slot_queue=policy.max_queue,
        )

    async def _admitted(self, call: PreparedCall, ckey: str | None, ikey: str | None) -> ToolResult:
        services = self.services
        settler = services.settler
        br = self.plan.policy.breaker
        # This call's own name for its claims (fill lock, idempotency record, slot), unique
        # across processes: a step the store ran but whose reply was lost is sent again and
        # finds them as its own; no other call does (the executor's owner is every call's).
        owner = slots.new_holder(services.owner)
        holder = owner if self.plan.policy.concurrency else ""
        while True:
            plan = self._plan(call, ckey, ikey, owner, holder)
            writes = settler.take()  # this executor's queued writes go first, same round trip
            try:
                clr, transitions = await services.backend.admit_after(writes, plan)
            except BackendUnavailable:
                settler.put_back(writes)
                return await self._unadmitted(call, plan)
            except BaseException:
                settler.put_back(writes)
                raise
            settler.delivered(writes, transitions)
            stop = clr.stop
            if stop is None:
                break
            if stop == "cache_hit":
                assert clr.data is not None
                call.stats.cached = True
                return finish(call, _json.loads(clr.data))
            if stop == "idem_done":
                assert clr.data is not None
                return decode_idem(call, clr.data)
            if stop == "rate_limited":
                return rate_limit.over_limit(call, clr.retry_after)
            if stop == "circuit_open":
                assert br is not None and clr.breaker is not None
                call.stats.breaker_state = clr.breaker.state
                return await breaker_layer.rejected(services, call, br, clr.breaker.retry_after)
            # another owner is filling this cache key or running this idempotency key
            if call.deadline is not None and time.monotonic() >= call.deadline:
                if stop == "idem_pending":
                    return refuse(
                        call, "timeout", "a duplicate call with this idempotency key is running"
                    )
                ckey = None  # out of time to wait for the other filler: run without the cache
                continue
            await asyncio.sleep(POLL)
        return await self._cleared(call, plan, clr)

    async def _cleared(self, call: PreparedCall, plan: CallPlan, clr: Clearance) -> ToolResult:
        backend = self.services.backend
        br = self.plan.policy.breaker
        adm = clr.breaker
        result: ToolResult | None = None
        admitted = 0.0
        slot = slots.Slot(clr.slot)
        try:
            if clr.wait > 0:
                await asyncio.sleep(clr.wait)
            if br is not None and adm is None and plan.breaker is not None:
                # the rate limit made us wait: ask the breaker now, not before the wait
                assert plan.breaker_key is not None
                try:
                    adm = await backend.breaker_acquire(plan.breaker_key, plan.breaker)
                except BackendUnavailable:
                    if self.plan.policy.fail_open is False:
                        result = breaker_layer.unavailable(call)
                else:
                    call.stats.breaker_state = adm.state
                    if not adm.allowed:
                        result = await breaker_layer.rejected(
                            self.services, call, br, adm.retry_after
                        )
                        adm = None
            elif adm is not None:
                call.stats.breaker_state = adm.state
            if result is None and plan.slot_key is not None:
                result = await slots.take_slot(backend, call, plan, slot)
            if result is None:
                admitted = time.monotonic() if br is not None and br.slow_call_s else 0.0
                result = await self.next(call)
        finally:
            self._settle(call, plan, clr, adm, result, admitted, slot.taken)
        return result

    def _settle(
        self,
        call: PreparedCall,
        plan: CallPlan,
        clr: Clearance,
        adm: Admission | None,
        result: ToolResult | None,
        admitted: float,
        release: bool,
    ) -> None:
        """Queue what the call writes after it ran (written behind the answer)."""
        br = self.plan.policy.breaker
        invoked = result is not None and call.stats.invoked
        value = None
        if invoked and result is not None and result.ok and plan.cache_key is not None:
            value = cache_bytes(result)
        idem = None
        if clr.idem_claimed and invoked and result is not None:
            idem = encode_idem(call, result)
        generation = None
        outcome: Any = "ignore"
        slow = False
        if adm is not None and br is not None:
            generation = adm.generation
            outcome = breaker_layer.outcome_of(call, br, result)
            slow = br.slow_call_s is not None and time.monotonic() - admitted >= br.slow_call_s
        if (
            generation is None
            and not clr.cache_locked
            and not clr.idem_claimed
            and value is None
            and not release
        ):
            return
        self.services.settler.submit(
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

    async def _unadmitted(self, call: PreparedCall, plan: CallPlan) -> ToolResult:
        """The store is unreachable: a cache miss; a call with an idempotency key is refused
        (or answered from its record still waiting to be written here); the other policies
        fail open or closed."""
        if plan.idem_key is not None:
            data = self.services.settler.pending_idem(plan.idem_key)
            if data is not None:
                return decode_idem(call, data)
            # whatever fail_open says: running without the record could run the call twice
            return idem_unavailable(call)
        if self.plan.policy.fail_open is False:
            if plan.rate_key is not None:
                return rate_limit.unavailable(call)
            if plan.breaker_key is not None:
                return breaker_layer.unavailable(call)
            if plan.slot_key is not None:
                return slots.unavailable(call)
        return await self.next(call)  # open: the concurrency limit is this process's own
