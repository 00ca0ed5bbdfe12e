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

from toolwire.state._base import (
    Admission,
    BreakerConfig,
    BreakerState,
    IdemRecord,
    Outcome,
    RateDecision,
    StateBackend,
    Transition,
)
from toolwire.state._breaker import BreakerCore


class MemoryBackend(StateBackend):
    """State kept in this process. ``clock`` is injectable for tests (``time.monotonic``).

    Example::

        executor = Executor(backend=MemoryBackend())
    """

    shared = False

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, BreakerCore] = {}
        self._tat: dict[str, float] = {}
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._locks: dict[str, tuple[str, float]] = {}
        self._idem: dict[str, tuple[str, bytes | None, float]] = {}
        # a subclass that changes the async cache methods (a test double, say) keeps them used
        cls = type(self)
        self.cache_nowait = (
            cls.cache_get is MemoryBackend.cache_get and cls.cache_set is MemoryBackend.cache_set
        )

    # -- breaker ------------------------------------------------------------------------
    def _breaker(self, key: str, config: BreakerConfig) -> BreakerCore:
        core = self._breakers.get(key)
        if core is None:
            core = self._breakers[key] = BreakerCore(config)
        return core

    # The per-call operations below take the lock with acquire/release: on CPython 3.11
    # ``with lock`` costs twice as much (~170 vs ~90 ns), paid several times per call.
    def breaker_acquire_nowait(self, key: str, config: BreakerConfig) -> Admission:
        lock = self._lock
        lock.acquire()
        try:
            core = self._breakers.get(key) or self._breaker(key, config)
            return core.acquire(self._clock())
        finally:
            lock.release()

    def breaker_record_nowait(
        self, key: str, config: BreakerConfig, generation: int, outcome: Outcome, slow: bool
    ) -> Transition:
        lock = self._lock
        lock.acquire()
        try:
            core = self._breakers.get(key) or self._breaker(key, config)
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
            self._breaker(key, BreakerConfig()).force(state, self._clock())

    # -- rate limit: GCRA, burst of ``rate`` --------------------------------------------
    async def rate_acquire(
        self, key: str, rate: float, per: float, max_wait: float
    ) -> RateDecision:
        interval = per / rate
        # a burst of ``rate`` calls, and at least one even when rate < 1 per ``per``
        limit = max(per, interval)
        with self._lock:
            now = self._clock()
            tat = max(self._tat.get(key, now), now)
            new_tat = tat + interval
            wait = new_tat - limit - now
            if wait <= 0:
                self._tat[key] = new_tat
                return RateDecision(allowed=True)
            if wait <= max_wait:
                self._tat[key] = new_tat
                return RateDecision(allowed=True, wait=wait)
            return RateDecision(allowed=False, retry_after=wait)

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
    async def idem_begin(self, key: str, owner: str, ttl: float) -> IdemRecord:
        with self._lock:
            now = self._clock()
            entry = self._idem.get(key)
            if entry is not None and entry[2] > now:
                if entry[0] == "pending":
                    return IdemRecord(status="pending")
                return IdemRecord(status="done", data=entry[1])
            if len(self._idem) > 4096:
                self._idem = {k: v for k, v in self._idem.items() if v[2] > now}
            self._idem[key] = ("pending", owner.encode(), now + ttl)
            return IdemRecord(status="new")

    async def idem_finish(self, key: str, owner: str, data: bytes, ttl: float) -> None:
        with self._lock:
            self._idem[key] = ("done", data, self._clock() + ttl)

    async def idem_abandon(self, key: str, owner: str) -> None:
        with self._lock:
            entry = self._idem.get(key)
            if entry is not None and entry[0] == "pending" and entry[1] == owner.encode():
                del self._idem[key]
