"""Idempotency: a call with an idempotency key runs once; a duplicate gets its result.

Only in the chain of calls that carry a key. Duplicates in flight here join the first call;
others read its stored record (a key reused with other arguments is refused). The store
being unreachable refuses the call (``unavailable``) whatever ``fail_open`` says: running
without the record could run it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from toolwire._calls import ToolResult
from toolwire._errors import ToolFailure
from toolwire.runtime._keys import (
    decode_idem,
    encode_idem,
    idem_flight,
    idem_key,
    idem_unavailable,
)
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._outcomes import finish, lease, refuse
from toolwire.runtime._plan import PreparedCall, ToolPlan
from toolwire.state import BackendUnavailable

# seconds between looks at another call's pending record
POLL = 0.02


class Idempotency(Layer):
    __slots__ = ()

    @classmethod
    def applies(cls, plan: ToolPlan, keyed: bool) -> bool:
        return keyed

    async def __call__(self, call: PreparedCall) -> ToolResult:
        assert call.idempotency_key is not None
        key = idem_key(call.plan.name, call.caller_id, call.idempotency_key)
        return await self.services.flights.run(
            idem_flight(call, key), call, lambda: self._once(call, key)
        )

    async def _once(self, call: PreparedCall, key: str) -> ToolResult:
        backend = self.services.backend
        owner = self.services.owner
        while True:
            try:
                rec = await backend.idem_begin(key, owner, lease(call))
            except BackendUnavailable:
                return idem_unavailable(call)
            except ToolFailure as exc:  # the store refused a new key (full of claims)
                return finish(call, error=exc.to_error())
            if rec.status == "done":
                assert rec.data is not None
                return decode_idem(call, rec.data)
            if rec.status == "new":
                break
            if call.deadline is not None and time.monotonic() >= call.deadline:
                return refuse(
                    call, "timeout", "a duplicate call with this idempotency key is running"
                )
            await asyncio.sleep(POLL)
        try:
            result = await self.next(call)
        except BaseException:
            with contextlib.suppress(BackendUnavailable):
                await backend.idem_abandon(key, owner)
            raise
        with contextlib.suppress(BackendUnavailable):
            if call.stats.invoked:
                await backend.idem_finish(
                    key, owner, encode_idem(call, result), self.services.idempotency_ttl
                )
            else:  # refused before the handler (rate limit, breaker): the key may run later
                await backend.idem_abandon(key, owner)
        return result
