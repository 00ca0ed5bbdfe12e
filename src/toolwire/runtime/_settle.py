"""After-call writes on a shared store, made behind the answer: none on the critical path.

A call on a shared store (Redis) takes one round trip before it runs (``admit``); what it
writes afterwards (breaker record, cache entry, idempotency record, lock and slot release:
its ``Settlement``) is queued here and the answer returned at once. The queue is written

* with the next admission this executor sends (in the same pipelined round trip, ahead of
  it, so this process's next call always sees every earlier call's writes), or
* by a background flusher started in the next event-loop iteration, pipelining everything
  queued meanwhile into one round trip,

whichever comes first. So on a healthy store a write lands at most one round trip (plus one
loop iteration) after its answer: that is the staleness bound other processes see. While
the store is unreachable the writes stay queued and the flusher tries again with backoff: a
write is never lost while the process runs, and an idempotency record still queued answers a
duplicate of its key here (kept locally until the backend is back). ``aclose`` waits (bounded)
for the queue to drain; what cannot be written then is logged, and its claims expire with
their lease in the store.

Writes are at least once: a flush cut by a broken connection is sent again. Every write is
idempotent except a breaker record, which may then count one outcome twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from toolwire._backoff import backoff_delay
from toolwire.state import BackendUnavailable, CallPlan, Settlement, StateBackend, Transition

log = logging.getLogger("toolwire.runtime")

Write = tuple[CallPlan, Settlement]
# Beyond this many queued writes (a long outage with many calls admitted just before it), the
# oldest writes that carry no idempotency record are dropped: those claims expire by lease.
MAX_PENDING = 50_000
_RETRY_BASE = 0.05
_RETRY_CAP = 1.0


class Settler:
    """The queue of one executor's after-call writes to its shared store."""

    __slots__ = ("_failures", "_idem", "_inflight", "_queue", "_task", "backend", "emit")

    def __init__(self, backend: StateBackend, emit: Callable[[str, str, str], None]) -> None:
        self.backend = backend
        self.emit = emit  # breaker transitions the writes caused
        self._queue: list[Write] = []
        self._inflight = 0
        # idempotency records not written yet: store key -> the stored result
        self._idem: dict[str, bytes] = {}
        self._task: asyncio.Task[None] | None = None
        self._failures = 0

    @property
    def pending(self) -> int:
        """Writes queued or being written."""
        return len(self._queue) + self._inflight

    def submit(self, plan: CallPlan, settlement: Settlement) -> None:
        """Queue one call's writes (never waits)."""
        self._queue.append((plan, settlement))
        if settlement.idem_data is not None and plan.idem_key is not None:
            self._idem[plan.idem_key] = settlement.idem_data
        if len(self._queue) > MAX_PENDING:
            self._shed()
        self._wake()

    def pending_idem(self, key: str) -> bytes | None:
        """The stored result of idempotency key ``key`` if it is still waiting to be written."""
        return self._idem.get(key)

    def take(self) -> list[Write]:
        """Everything queued, to send ahead of an admission (``put_back`` if that failed)."""
        batch = self._queue
        if not batch:
            return []  # (not the queue itself: later writes would be appended to it)
        self._queue = []
        self._inflight += len(batch)
        return batch

    def put_back(self, batch: Sequence[Write], *, wake: bool = True) -> None:
        """``take``'s writes were not confirmed: queue them again, first."""
        if batch:
            self._inflight -= len(batch)
            self._queue[:0] = batch
            if wake:
                self._wake()

    def delivered(self, batch: Sequence[Write], transitions: Sequence[Transition | None]) -> None:
        """``take``'s writes were made; report the breaker changes they caused."""
        self._inflight -= len(batch)
        for (plan, settlement), tr in zip(batch, transitions, strict=True):
            data = settlement.idem_data
            key = plan.idem_key
            if data is not None and key is not None and self._idem.get(key) is data:
                del self._idem[key]
            if tr is not None and tr.new != tr.old and plan.breaker_key is not None:
                self.emit(plan.breaker_key, tr.old, tr.new)

    def _wake(self) -> None:
        task = self._task
        loop = asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:
            self._task = loop.create_task(self._flush_queue(), name="toolwire-settle")

    async def _flush_queue(self) -> None:
        while self._queue:
            batch = self.take()
            try:
                transitions = await self.backend.settle_many(batch)
            except BackendUnavailable:
                self.put_back(batch)
                self._failures += 1
                await asyncio.sleep(backoff_delay(self._failures, _RETRY_BASE, _RETRY_CAP))
                continue
            except BaseException:
                self.put_back(batch, wake=False)  # (the loop may be closing)
                raise
            self._failures = 0
            self.delivered(batch, transitions)

    def _shed(self) -> None:
        keep = [w for w in self._queue if w[1].idem_data is not None]
        dropped = len(self._queue) - len(keep)
        if dropped:
            log.warning(
                "toolwire: %d after-call writes to the state store dropped (queue over %d "
                "while it was unreachable); their claims expire with their lease",
                dropped,
                MAX_PENDING,
            )
            self._queue = keep

    async def flush(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until every write queued so far was made; False if ``timeout`` passed first."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.pending:
            if self._queue:
                self._wake()
            if end is not None and time.monotonic() >= end:
                return False
            await asyncio.sleep(0.005)  # off the call path: a short poll is enough
        return True

    async def aclose(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Write what is queued (waiting at most ``timeout``), then stop."""
        if not await self.flush(timeout):
            log.warning(
                "toolwire: %d after-call writes to the state store not made at close (it "
                "did not answer within %.1f s); their claims expire with their lease",
                self.pending,
                timeout,
            )
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            if task.get_loop() is asyncio.get_running_loop():
                await asyncio.gather(task, return_exceptions=True)
        self._queue.clear()
        self._idem.clear()
        self._inflight = 0
