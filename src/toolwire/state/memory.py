"""In-process state: the default backend (one process, any number of tasks and threads).

Every operation is a short critical section under one ``threading.Lock``: inside the event
loop it runs without awaiting, so check-and-set is atomic for tasks, and the lock makes it
atomic for threads sharing the backend too.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from toolwire._errors import ToolFailure
from toolwire.state._base import (
    BUDGET_IDLE,
    MICROS,
    WAITER_TTL,
    Admission,
    BreakerConfig,
    BreakerState,
    EventWatch,
    IdemRecord,
    Outcome,
    RateDecision,
    SlotStatus,
    StateBackend,
    Transition,
    budget_cap,
    budget_step,
    gcra_steps,
)
from toolwire.state._breaker import BreakerCore

__all__ = ["MemoryBackend"]


class MemoryBackend(StateBackend):
    """State kept in this process. ``clock`` is injectable for tests (``time.monotonic``).

    At most ``max_idempotency_records`` idempotency records are kept (finished ones are
    dropped oldest first beyond that; new keys are refused while all are in flight).

    Example::

        executor = Executor(backend=MemoryBackend())
    """

    shared = False

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_idempotency_records: int = 100_000,
    ) -> None:
        if max_idempotency_records < 1:
            raise ValueError("max_idempotency_records must be >= 1")
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, BreakerCore] = {}
        self._tat: dict[str, int] = {}  # theoretical arrival times, microseconds
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._locks: dict[str, tuple[str, float]] = {}
        # key -> (owner, expiry) and key -> (result, expiry); see ``idem_begin``
        self._idem_pending: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._idem_done: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        # concurrency slots (used when a subclass is ``shared``): holders, and the waiters in
        # arrival order with the time they stop counting unless they ask again
        self._slots: dict[str, set[str]] = {}
        self._slot_queues: dict[str, OrderedDict[str, float]] = {}
        self._slot_watches: dict[str, dict[str, EventWatch]] = {}
        self._budgets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last touched)
        self.max_idempotency_records = max_idempotency_records
        # a subclass that changes the async cache methods (a test double, say) keeps them used
        cls = type(self)
        self.cache_nowait = (
            cls.cache_get is MemoryBackend.cache_get and cls.cache_set is MemoryBackend.cache_set
        )

    # -- breaker ------------------------------------------------------------------------
    def _breaker(self, key: str, config: BreakerConfig) -> BreakerCore:
        """The breaker of ``key`` under this call's settings (as Redis, which gets them with
        every call): a breaker forced before its first call, or shared by tools, must not
        keep settings it was created with."""
        core = self._breakers.get(key)
        if core is None:
            core = self._breakers[key] = BreakerCore(config)
        elif core.config != config:
            core.reconfigure(config)
        return core

    # The per-call operations below take the lock with acquire/release: on CPython 3.11
    # ``with lock`` costs twice as much (~170 vs ~90 ns), paid several times per call.
    def breaker_acquire_nowait(self, key: str, config: BreakerConfig) -> Admission:
        lock = self._lock
        lock.acquire()
        try:
            core = self._breakers.get(key)
            if core is None or core.config is not config:
                core = self._breaker(key, config)
            return core.acquire(self._clock())
        finally:
            lock.release()

    def breaker_record_nowait(
        self, key: str, config: BreakerConfig, generation: int, outcome: Outcome, slow: bool
    ) -> Transition:
        lock = self._lock
        lock.acquire()
        try:
            core = self._breakers.get(key)
            if core is None or core.config is not config:
                core = self._breaker(key, config)
            return core.record(self._clock(), generation, outcome, slow)
        finally:
            lock.release()

    async def breaker_acquire(self, key: str, config: BreakerConfig) -> Admission:
        return self.breaker_acquire_nowait(key, config)

    async def breaker_record(
        self, key: str, config: BreakerConfig, generation: int, outcome: Outcome, slow: bool
    ) -> Transition:
        return self.breaker_record_nowait(key, config, generation, outcome, slow)

    async def breaker_state(self, key: str) -> BreakerState:
        with self._lock:
            core = self._breakers.get(key)
            return core.state if core else "closed"

    async def breaker_force(self, key: str, state: BreakerState | None) -> None:
        with self._lock:
            core = self._breakers.get(key)
            if core is None:
                if state in (None, "closed"):
                    return  # nothing to reset; the first call creates it with its settings
                # settings are placeholders until the first call brings the tool's own
                core = self._breakers[key] = BreakerCore(BreakerConfig())
            core.force(state, self._clock())

    # -- rate limit: GCRA, burst of ``rate`` --------------------------------------------
    async def rate_acquire(
        self, key: str, rate: float, per: float, max_wait: float
    ) -> RateDecision:
        interval, limit = gcra_steps(rate, per)  # microseconds (see ``gcra_steps``)
        with self._lock:
            now = round(self._clock() * MICROS)
            tat = max(self._tat.get(key, now), now)
            new_tat = tat + interval
            wait = new_tat - limit - now
            if wait <= 0:
                self._tat[key] = new_tat
                return RateDecision(allowed=True)
            if wait <= max_wait * MICROS:
                self._tat[key] = new_tat
                return RateDecision(allowed=True, wait=wait / MICROS)
            return RateDecision(allowed=False, retry_after=wait / MICROS)

    # -- cache: TTL + LRU ---------------------------------------------------------------
    def cache_get_nowait(self, key: str) -> bytes | None:
        lock = self._lock
        lock.acquire()
        try:
            entry = self._cache.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            return entry[1]
        finally:
            lock.release()

    def cache_set_nowait(self, key: str, value: bytes, ttl: float, max_entries: int) -> None:
        entry = (self._clock() + ttl, value)
        lock = self._lock
        lock.acquire()
        try:
            cache = self._cache
            if key in cache:
                cache.move_to_end(key)  # a new key is appended last anyway
            cache[key] = entry
            while len(cache) > max_entries:
                cache.popitem(last=False)
        finally:
            lock.release()

    async def cache_get(self, key: str) -> bytes | None:
        return self.cache_get_nowait(key)

    async def cache_set(self, key: str, value: bytes, ttl: float, max_entries: int) -> None:
        self.cache_set_nowait(key, value, ttl, max_entries)

    async def cache_delete(self, key: str) -> int:
        with self._lock:
            if key.endswith("*"):
                prefix = key[:-1]
                doomed = [k for k in self._cache if k.startswith(prefix)]
            else:
                doomed = [key] if key in self._cache else []
            for k in doomed:
                del self._cache[k]
            return len(doomed)

    # -- locks --------------------------------------------------------------------------
    async def lock_acquire(self, key: str, owner: str, ttl: float) -> bool:
        with self._lock:
            now = self._clock()
            held = self._locks.get(key)
            if held is not None and held[1] > now and held[0] != owner:
                return False
            self._locks[key] = (owner, now + ttl)
            return True

    async def lock_release(self, key: str, owner: str) -> None:
        with self._lock:
            held = self._locks.get(key)
            if held is not None and held[0] == owner:
                del self._locks[key]

    # -- idempotency --------------------------------------------------------------------
    # Pending claims and finished records live in two insertion-ordered maps. Finished
    # records all get the executor's one TTL, so the oldest is first and expired ones are
    # popped from the front (amortised O(1) per call); claims come and go with their calls.
    # Keys come from clients, so the total is capped: the oldest finished records go first,
    # and when every slot is an in-flight claim a new key is refused.
    def _idem_prune(self, now: float) -> None:
        for records in (self._idem_done, self._idem_pending):
            while records:
                first = next(iter(records.values()))
                if first[1] > now:
                    break
                records.popitem(last=False)

    def _idem_get(self, key: str, now: float) -> tuple[str, tuple[bytes, float] | None]:
        for status, records in (("pending", self._idem_pending), ("done", self._idem_done)):
            entry = records.get(key)
            if entry is not None:
                if entry[1] > now:
                    return status, entry
                del records[key]
        return "", None

    async def idem_begin(self, key: str, owner: str, ttl: float) -> IdemRecord:
        with self._lock:
            now = self._clock()
            self._idem_prune(now)
            status, entry = self._idem_get(key, now)
            if entry is not None:
                if status == "pending":
                    return IdemRecord(status="pending")
                return IdemRecord(status="done", data=entry[0])
            done = self._idem_done
            while done and len(done) + len(self._idem_pending) >= self.max_idempotency_records:
                done.popitem(last=False)
            if len(self._idem_pending) >= self.max_idempotency_records:
                raise ToolFailure(
                    "rate_limited",
                    f"too many idempotent calls in flight ({len(self._idem_pending)}); "
                    "retry when some have finished",
                    retry_after=1.0,
                )
            self._idem_pending[key] = (owner.encode(), now + ttl)
            return IdemRecord(status="new")

    async def idem_finish(self, key: str, owner: str, data: bytes, ttl: float) -> None:
        with self._lock:
            now = self._clock()
            status, entry = self._idem_get(key, now)
            # only the claim's owner records the result (or anyone once the claim lapsed
            # unclaimed): another owner's claim or a finished record is never overwritten
            if entry is not None and (status == "done" or entry[0] != owner.encode()):
                return
            self._idem_pending.pop(key, None)
            done = self._idem_done
            done.pop(key, None)
            done[key] = (data, now + ttl)
            while len(done) + len(self._idem_pending) > self.max_idempotency_records:
                done.popitem(last=False)

    async def idem_abandon(self, key: str, owner: str) -> None:
        with self._lock:
            entry = self._idem_pending.get(key)
            if entry is not None and entry[0] == owner.encode():
                del self._idem_pending[key]

    # -- concurrency slots --------------------------------------------------------------
    # Only a ``shared`` store is asked (the executor's in-process Limiter serves this one);
    # a holder cannot outlive this process, so slots need no lease here.
    async def slot_acquire(
        self, key: str, holder: str, limit: int, max_queue: int | None
    ) -> SlotStatus:
        with self._lock:
            now = self._clock()
            held = self._slots.setdefault(key, set())
            queue = self._slot_queues.setdefault(key, OrderedDict())
            for waiter in [w for w, until in queue.items() if until <= now]:
                del queue[waiter]
            if holder in held:
                return "held"
            free = limit - len(held)
            if free > 0:
                ahead = list(queue).index(holder) if holder in queue else len(queue)
                if ahead < free:
                    held.add(holder)
                    if queue.pop(holder, None) is not None and free > 1:
                        self._wake(key, list(queue)[: free - 1])  # their turn too now
                    return "held"
            if holder not in queue and max_queue is not None and len(queue) >= max_queue:
                return "full"
            queue[holder] = now + WAITER_TTL  # an update keeps the place in line
            return "queued"

    async def slot_release(self, key: str, holder: str) -> None:
        with self._lock:
            held = self._slots.get(key, set())
            was_held = holder in held
            held.discard(holder)
            queue = self._slot_queues.get(key)
            if queue is not None:
                queue.pop(holder, None)
                if was_held and queue:
                    self._wake(key, [next(iter(queue))])

    async def retry_budget(
        self, key: str, deposits: int, ratio: float, reserve: float, spend: bool
    ) -> bool:
        with self._lock:
            now = self._clock()
            tokens, touched = self._budgets.get(key, (reserve, now))
            if now - touched > BUDGET_IDLE:
                tokens = reserve
            tokens, spent = budget_step(tokens, deposits, ratio, budget_cap(ratio, reserve), spend)
            self._budgets[key] = (tokens, now)
            return spent

    def slot_watch(self, key: str, holder: str) -> EventWatch:
        def forget(watch: EventWatch) -> None:
            with self._lock:
                watches = self._slot_watches.get(key, {})
                if watches.get(holder) is watch:
                    del watches[holder]
                    if not watches:
                        del self._slot_watches[key]

        watch = EventWatch(forget)
        with self._lock:
            self._slot_watches.setdefault(key, {})[holder] = watch
        return watch

    def _wake(self, key: str, waiters: list[str]) -> None:
        watches = self._slot_watches.get(key, {})
        for waiter in waiters:
            watch = watches.get(waiter)
            if watch is not None:
                watch.wake()
