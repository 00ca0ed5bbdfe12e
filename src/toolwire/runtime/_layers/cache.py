"""Cache (in-process store): successful results of read-only or idempotent tools, by the tool
and the canonical JSON of the validated arguments (and the caller, when per caller).

Identical misses in flight at once run once (the others wait for the first). Only what the
handler produced is stored (not a breaker's fallback); a value with no JSON form is returned
and not cached; an unreachable store is a miss, whatever ``fail_open`` says. A shared store
(Redis) takes the shared-store layer instead, which also coordinates the fill across
processes.
"""

from __future__ import annotations

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire.runtime._keys import cache_bytes, call_cache_key
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._outcomes import finish
from toolwire.runtime._plan import PreparedCall, ToolPlan
from toolwire.runtime._policy import Cache
from toolwire.runtime._services import Services
from toolwire.state import BackendUnavailable


class Caching(Layer):
    __slots__ = ("cache",)

    def __init__(self, next: Layer | None, plan: ToolPlan, services: Services) -> None:
        super().__init__(next, plan, services)
        cache = plan.policy.cache
        assert cache is not None
        self.cache: Cache = cache

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        return plan.policy.cache is not None

    async def __call__(self, call: PreparedCall) -> ToolResult:
        key = call_cache_key(call, local=True)
        if key is None:  # arguments without a JSON form: not cached
            return await self.next(call)
        backend = self.services.backend
        try:
            if backend.cache_nowait:  # in memory: the lookup never suspends
                data = backend.cache_get_nowait(key)
            else:
                data = await backend.cache_get(key)
        except BackendUnavailable:
            data = None  # a cache outage is a miss
        if data is not None:
            call.stats.cached = True
            return finish(call, _json.loads(data))
        flights = self.services.flights
        flight = "c:" + key
        if not flights.begin(flight):  # the same call is in flight here: wait for it
            return await flights.run(flight, call, lambda: self._fill(call, key))
        try:
            result = await self._fill(call, key)
        except BaseException:
            flights.end(flight, None)  # its waiters run the call themselves
            raise
        flights.end(flight, result)
        return result

    async def _fill(self, call: PreparedCall, key: str) -> ToolResult:
        result = await self.next(call)
        if not (result.ok and call.stats.invoked):  # only what the handler produced
            return result
        data = cache_bytes(result)
        if data is None:
            return result
        backend = self.services.backend
        cache = self.cache
        # stored before the flight ends, so later identical calls hit
        try:
            if backend.cache_nowait:
                backend.cache_set_nowait(key, data, cache.ttl, cache.max_entries)
            else:
                await backend.cache_set(key, data, cache.ttl, cache.max_entries)
        except BackendUnavailable:
            pass
        return result
