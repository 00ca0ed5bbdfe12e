"""The contract every shared-state backend implements (memory, Redis).

The executor keeps all cross-call state here: breaker windows, rate-limit counters, cached
results, idempotency records and single-flight locks. Every operation that reads and then
writes is ONE atomic step of the backend (a critical section in memory, a Lua script in
Redis), so concurrent callers in one loop, in threads or in other processes never race.

Backends raise :class:`BackendUnavailable` (and only that) when the store cannot be reached;
the executor then fails open or closed per policy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal, get_args

BreakerState = Literal["closed", "open", "half_open", "forced_open", "disabled"]
BREAKER_STATES: tuple[BreakerState, ...] = get_args(BreakerState)
Outcome = Literal["success", "failure", "ignore"]
IdemStatus = Literal["new", "pending", "done"]


class BackendUnavailable(Exception):
    """The shared state store could not be reached (or answered nonsense)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerConfig:
    """The numbers a backend needs to run one breaker's state machine."""

    window: int = 20
    window_type: Literal["count", "time"] = "count"
    min_calls: int = 10
    failure_rate: float = 0.5
    slow_call_rate: float = 1.0
    open_for: float = 30.0
    half_open_calls: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    """The answer to "may this call go through the breaker?"."""

    allowed: bool
    state: BreakerState
    generation: int = 0  # identifies the state period the call was admitted in
    retry_after: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A breaker state change caused by recording an outcome (old == new: no change)."""

    old: BreakerState
    new: BreakerState


@dataclass(frozen=True, slots=True, kw_only=True)
class RateDecision:
    """``allowed`` with ``wait`` seconds to sleep first (slot reserved), or a rejection."""

    allowed: bool
    wait: float = 0.0
    retry_after: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IdemRecord:
    status: IdemStatus
    data: bytes | None = None  # the stored result when ``done``


class StateBackend(ABC):
    """Shared state for breakers, rate limits, cache and idempotency.

    ``shared`` is True when several processes may use the same store (then the executor also
    coordinates through it, e.g. waits on another process's in-flight idempotent call).
    """

    shared: bool = False

    # -- circuit breaker --------------------------------------------------------------
    @abstractmethod
    async def breaker_acquire(self, key: str, config: BreakerConfig) -> Admission:
        """Admit or reject one call; in half-open admits exactly ``half_open_calls`` trials."""

    @abstractmethod
    async def breaker_record(
        self, key: str, config: BreakerConfig, generation: int, outcome: Outcome, slow: bool
    ) -> Transition:
        """Record an admitted call's outcome (``ignore`` gives a trial permit back)."""

    # Optional synchronous twins for stores that answer without I/O (memory): the executor
    # tries them first and awaits the async method only when they return None. A subclass
    # that changes breaker_acquire/breaker_record must change (or disable) these too.
    def breaker_acquire_nowait(self, key: str, config: BreakerConfig) -> Admission | None:
        """``breaker_acquire`` answered at once, or None: await ``breaker_acquire``."""
        return None

    def breaker_record_nowait(
        self, key: str, config: BreakerConfig, generation: int, outcome: Outcome, slow: bool
    ) -> Transition | None:
        """``breaker_record`` done at once, or None: await ``breaker_record``."""
        return None

    @abstractmethod
    async def breaker_state(self, key: str) -> BreakerState:
        """The current state (``open`` is reported even when its duration has passed)."""

    @abstractmethod
    async def breaker_force(self, key: str, state: BreakerState | None) -> None:
        """Force ``forced_open`` / ``disabled``; ``closed`` or None resets the breaker."""

    # -- rate limit (GCRA) ----------------------------------------------------------------
    @abstractmethod
    async def rate_acquire(
        self, key: str, rate: float, per: float, max_wait: float
    ) -> RateDecision:
        """Take one slot of ``rate`` per ``per`` seconds, reserving up to ``max_wait`` ahead."""

    # -- cache --------------------------------------------------------------------------
    @abstractmethod
    async def cache_get(self, key: str) -> bytes | None: ...

    @abstractmethod
    async def cache_set(self, key: str, value: bytes, ttl: float, max_entries: int) -> None: ...

    @abstractmethod
    async def cache_delete(self, key: str) -> int:
        """Delete one key, or every key starting with it when it ends with ``*``."""

    async def cache_get_or_lock(
        self, key: str, owner: str, ttl: float
    ) -> tuple[bytes | None, bool]:
        """A cached value, or None and whether we won the right to fill it (lock ``c:key``).

        One atomic step where the store allows it (one round trip on Redis).
        """
        data = await self.cache_get(key)
        if data is not None:
            return data, False
        return None, await self.lock_acquire("c:" + key, owner, ttl)

    async def cache_set_unlock(
        self, key: str, value: bytes, ttl: float, max_entries: int, owner: str
    ) -> None:
        """Store a value and release our fill lock (one round trip on Redis)."""
        await self.cache_set(key, value, ttl, max_entries)
        await self.lock_release("c:" + key, owner)

    # -- single-flight locks ------------------------------------------------------------
    @abstractmethod
    async def lock_acquire(self, key: str, owner: str, ttl: float) -> bool: ...

    @abstractmethod
    async def lock_release(self, key: str, owner: str) -> None: ...

    # -- idempotency --------------------------------------------------------------------
    @abstractmethod
    async def idem_begin(self, key: str, owner: str, ttl: float) -> IdemRecord:
        """Claim ``key`` (``new``), or report another claim (``pending``) or its result."""

    @abstractmethod
    async def idem_finish(self, key: str, owner: str, data: bytes, ttl: float) -> None: ...

    @abstractmethod
    async def idem_abandon(self, key: str, owner: str) -> None:
        """Drop our claim without a result (the call was cancelled), so it may run again."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
