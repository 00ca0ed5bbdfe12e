"""The contract every shared-state backend implements (memory, Redis).

The executor keeps all cross-call state here: breaker windows, rate-limit counters, cached
results, idempotency records, single-flight locks and, on a shared store, each tool's
concurrency slots. Every operation that reads and then writes is ONE atomic step of the
backend (a critical section in memory, a Lua script in Redis), so concurrent callers in one
loop, in threads or in other processes never race.

Backends raise :class:`BackendUnavailable` (and only that) when the store cannot be reached;
the executor then fails open or closed per policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

BreakerState = Literal["closed", "open", "half_open", "forced_open", "disabled"]
BREAKER_STATES: tuple[BreakerState, ...] = get_args(BreakerState)
Outcome = Literal["success", "failure", "ignore"]
IdemStatus = Literal["new", "pending", "done"]
# Why ``admit`` stopped before clearing every policy (see ``Clearance``).
Stop = Literal[
    "cache_hit", "cache_busy", "idem_done", "idem_pending", "rate_limited", "circuit_open"
]
# A shared concurrency slot: taken (``held``), waiting in the tool's queue (``queued``: ask
# again later), or refused because the queue is full (``full``).
SlotStatus = Literal["held", "queued", "full"]
# A queued caller is woken when a slot frees (``slot_watch``) and asks again then, and at
# least every ``SLOT_RECHECK`` seconds in case a wake-up was lost; one silent for
# ``WAITER_TTL`` has gone away (its process died) and loses its place in the queue.
WAITER_TTL = 2.0
SLOT_RECHECK = WAITER_TTL / 2


# A retry budget (``Retry.budget``): each call earns ``ratio`` tokens, each retry spends one,
# ``reserve`` to start with. Savings are capped at the earnings of ``BUDGET_WINDOW`` calls (the
# window the budget remembers), and a shared budget untouched for ``BUDGET_IDLE`` seconds is
# forgotten (it starts again from its reserve).
BUDGET_WINDOW = 1000
BUDGET_IDLE = 600.0


def budget_cap(ratio: float, reserve: float) -> float:
    """The most tokens a retry budget of ``ratio`` and ``reserve`` can hold."""
    return max(reserve, ratio * BUDGET_WINDOW)


def budget_step(
    tokens: float, deposits: int, ratio: float, cap: float, spend: bool
) -> tuple[float, bool]:
    """A budget after ``deposits`` calls and, when ``spend``, one retry: (tokens, spent)."""
    tokens = min(cap, tokens + ratio * deposits)
    if spend and tokens >= 1.0:
        return tokens - 1.0, True
    return tokens, False


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


# Both rate limiters (memory and the Lua script) count in whole microseconds: in floats,
# ``(now + interval) - limit - now`` rounded above 0 at some clock values and refused a fresh
# bucket's first call. Integers are exact in Lua's doubles up to 2**53 (the epoch in
# microseconds is about 2**51).
MICROS = 1_000_000


@functools.lru_cache(maxsize=1024)
def gcra_steps(rate: float, per: float) -> tuple[int, int]:
    """``(interval, limit)`` in microseconds for ``rate`` calls per ``per`` seconds (GCRA): a
    call spends ``interval`` (rounded to the nearest microsecond), and a bucket holds exactly
    ``floor(rate)`` calls, at least one, so the burst never depends on rounding.

    Example::

        assert gcra_steps(3, 1.0) == (333_333, 999_999)
    """
    per_us = max(1, round(per * MICROS))
    interval = max(1, round(Fraction(per_us) / Fraction(rate)))
    return interval, max(1, math.floor(rate)) * interval


@dataclass(frozen=True, slots=True, kw_only=True)
class IdemRecord:
    status: IdemStatus
    data: bytes | None = None  # the stored result when ``done``


@dataclass(frozen=True, slots=True, kw_only=True)
class CallPlan:
    """The shared-state policies one call goes through, in chain order (None: not used).

    ``owner`` and ``lease`` name and bound the claims the call takes (the cache fill lock,
    the pending idempotency record) so a crashed owner's claims expire. ``slot_key`` asks
    for one of ``slot_limit`` concurrency slots under the name ``slot_holder`` (unique per
    call), queueing behind at most ``slot_queue`` waiters (None: unbounded); a held slot is
    kept alive by the backend while this process runs and comes back by itself when it dies.
    """

    owner: str
    lease: float
    cache_key: str | None = None
    cache_ttl: float = 60.0
    cache_max_entries: int = 10_000
    idem_key: str | None = None
    idem_ttl: float = 24 * 3600.0
    rate_key: str | None = None
    rate: float = 1.0
    per: float = 1.0
    max_wait: float = 0.0
    breaker_key: str | None = None
    breaker: BreakerConfig | None = None
    slot_key: str | None = None
    slot_holder: str = ""
    slot_limit: int = 1
    slot_queue: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Clearance:
    """What ``admit`` decided, policy by policy in chain order.

    ``stop`` is None when the call may run: then ``cache_locked``/``idem_claimed`` say which
    claims it holds (give them back through ``settle``), ``wait`` is a reserved rate-limit
    delay to sleep first and ``breaker`` the admission. A positive ``wait`` stops the
    decisions before the breaker (``breaker`` is None): the call asks the breaker after the
    wait, so no trial permit is held while sleeping. Otherwise ``stop`` names the first
    decision that ended the call (or, for ``cache_busy``/``idem_pending``, made it wait for
    another owner); every claim taken before it was given back in the same step, and a cache
    hit or an idempotent duplicate consumed no rate-limit slot and no breaker trial.

    ``slot`` is the concurrency slot's status when the plan asked for one and the decisions
    got that far (None otherwise: after a rate-limit ``wait`` it is asked after the breaker);
    ``held`` and ``queued`` are given back through ``settle`` (``slot_release``).
    """

    stop: Stop | None = None
    data: bytes | None = None  # the cached value or the stored idempotent result
    cache_locked: bool = False
    idem_claimed: bool = False
    wait: float = 0.0
    retry_after: float | None = None  # with ``rate_limited``
    breaker: Admission | None = None
    slot: SlotStatus | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """What ``settle`` writes after the call: every part is optional.

    ``cache_value`` is stored (and our fill lock released, if held); ``idem_data`` records the
    result (None gives an ``idem_claimed`` claim back); ``breaker_generation`` not None
    records ``outcome`` on the breaker; ``slot_release`` gives the plan's concurrency slot
    back (or leaves its queue).
    """

    cache_locked: bool = False
    cache_value: bytes | None = None
    idem_claimed: bool = False
    idem_data: bytes | None = None
    breaker_generation: int | None = None
    outcome: Outcome = "ignore"
    slow: bool = False
    slot_release: bool = False


class SlotWatch:
    """A queued caller's wake-ups: ``wait`` returns True when woken (a slot may be its turn),
    False when ``seconds`` passed first. A wake-up is a hint to ask again, never a slot.

    This base class hears nothing (a store that cannot notify): ``wait`` sleeps the ``seconds``,
    so the caller asks again every ``SLOT_RECHECK`` seconds.
    """

    __slots__ = ()

    async def wait(self, seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return False

    def close(self) -> None:
        """Stop listening (the caller holds its slot or left the queue)."""


class EventWatch(SlotWatch):
    """Wake-ups delivered by setting an ``asyncio.Event`` (``wake``, from the loop's thread
    or, through ``call_soon_threadsafe``, any other); ``on_close`` unregisters it."""

    __slots__ = ("_event", "_loop", "_on_close")

    def __init__(self, on_close: Callable[[EventWatch], None]) -> None:
        self._event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._on_close = on_close

    def wake(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._event.set()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                await self._event.wait()
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        self._on_close(self)


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

    # Synchronous twins for stores that answer without I/O (memory): the executor uses them
    # instead of the async methods when ``cache_nowait`` is True (a store sets it only while
    # they do exactly what ``cache_get``/``cache_set`` do).
    cache_nowait: bool = False

    def cache_get_nowait(self, key: str) -> bytes | None:
        """``cache_get`` answered at once (only called when ``cache_nowait`` is True)."""
        raise NotImplementedError

    def cache_set_nowait(self, key: str, value: bytes, ttl: float, max_entries: int) -> None:
        """``cache_set`` done at once (only called when ``cache_nowait`` is True)."""
        raise NotImplementedError

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

    # -- concurrency slots (shared stores) -----------------------------------------------
    # The executor limits concurrency in process (``runtime._limits.Limiter``) on a store that
    # is not ``shared``; on a shared one it takes these slots so the limit holds across every
    # process using the store.
    @abstractmethod
    async def slot_acquire(
        self, key: str, holder: str, limit: int, max_queue: int | None
    ) -> SlotStatus:
        """Take one of ``limit`` slots of ``key`` for ``holder``, first come first served.

        A caller that cannot have one joins the queue (``queued``) unless ``max_queue``
        callers already wait (``full``); a queued caller asks again to keep its place and to
        take a slot when its turn comes. A queued caller that stops asking loses its place.
        """

    @abstractmethod
    async def slot_release(self, key: str, holder: str) -> None:
        """Give ``holder``'s slot back, or take it out of the queue (a no-op otherwise)."""

    # -- retry budgets (shared stores) ------------------------------------------------------
    async def retry_budget(
        self, key: str, deposits: int, ratio: float, reserve: float, spend: bool
    ) -> bool:
        """Add ``deposits`` calls' earnings to ``key``'s retry budget (``budget_step``) and,
        when ``spend``, take one retry from it: True when one was taken. On a shared store
        every process draws from the same budget. A store without budgets raises
        ``NotImplementedError`` (the runtime then keeps the budget per process)."""
        raise NotImplementedError

    def slot_watch(self, key: str, holder: str) -> SlotWatch:
        """Listen for wake-ups of the queued ``holder`` of ``key``'s slots; called before the
        caller asks again, so a slot freed in between is not missed. The default hears none."""
        return SlotWatch()

    # -- one call's decisions and writes, together ------------------------------------------
    # A shared store answers these in one round trip each (Redis: one script). The defaults
    # compose the per-policy methods above, so any backend implementing those works.
    async def admit(self, plan: CallPlan) -> Clearance:
        """Decide every policy of ``plan`` in chain order, stopping at the first that ends it.

        Example::

            clr = await backend.admit(CallPlan(owner="me", lease=30.0, rate_key="t", rate=5))
        """
        locked = claimed = False
        if plan.cache_key is not None:
            data, locked = await self.cache_get_or_lock(plan.cache_key, plan.owner, plan.lease)
            if data is not None:
                return Clearance(stop="cache_hit", data=data)
            if not locked:
                return Clearance(stop="cache_busy")
        try:
            if plan.idem_key is not None:
                rec = await self.idem_begin(plan.idem_key, plan.owner, plan.lease)
                if rec.status != "new":
                    await self._undo(plan, locked, False)
                    stop: Stop = "idem_done" if rec.status == "done" else "idem_pending"
                    return Clearance(stop=stop, data=rec.data)
                claimed = True
            wait = 0.0
            if plan.rate_key is not None:
                dec = await self.rate_acquire(plan.rate_key, plan.rate, plan.per, plan.max_wait)
                if not dec.allowed:
                    await self._undo(plan, locked, claimed)
                    return Clearance(stop="rate_limited", retry_after=dec.retry_after)
                wait = dec.wait
            adm = None
            if plan.breaker_key is not None and wait <= 0:
                assert plan.breaker is not None
                adm = await self.breaker_acquire(plan.breaker_key, plan.breaker)
                if not adm.allowed:
                    await self._undo(plan, locked, claimed)
                    return Clearance(stop="circuit_open", breaker=adm)
            slot: SlotStatus | None = None
            if plan.slot_key is not None and wait <= 0:
                slot = await self.slot_acquire(
                    plan.slot_key, plan.slot_holder, plan.slot_limit, plan.slot_queue
                )
        except BaseException:
            await self._undo(plan, locked, claimed)
            raise
        return Clearance(
            cache_locked=locked, idem_claimed=claimed, wait=wait, breaker=adm, slot=slot
        )

    async def _undo(self, plan: CallPlan, locked: bool, claimed: bool) -> None:
        # on an outage the claims expire with their lease
        with contextlib.suppress(BackendUnavailable):
            await self.settle(plan, Settlement(cache_locked=locked, idem_claimed=claimed))

    async def settle(self, plan: CallPlan, outcome: Settlement) -> Transition | None:
        """Write the call's outcome: breaker record, cache store/unlock, idempotency record,
        concurrency slot release.

        Returns the breaker's transition when one was recorded. Every part is attempted even
        when one fails; the first ``BackendUnavailable`` is raised afterwards.
        """
        failed: BackendUnavailable | None = None
        transition = None
        if outcome.breaker_generation is not None and plan.breaker_key is not None:
            assert plan.breaker is not None
            try:
                transition = await self.breaker_record(
                    plan.breaker_key,
                    plan.breaker,
                    outcome.breaker_generation,
                    outcome.outcome,
                    outcome.slow,
                )
            except BackendUnavailable as exc:
                failed = exc
        if outcome.idem_claimed and plan.idem_key is not None:
            try:
                if outcome.idem_data is not None:
                    await self.idem_finish(
                        plan.idem_key, plan.owner, outcome.idem_data, plan.idem_ttl
                    )
                else:
                    await self.idem_abandon(plan.idem_key, plan.owner)
            except BackendUnavailable as exc:
                failed = failed or exc
        key = plan.cache_key
        if key is not None and (outcome.cache_locked or outcome.cache_value is not None):
            try:
                if outcome.cache_value is not None and outcome.cache_locked:
                    await self.cache_set_unlock(
                        key, outcome.cache_value, plan.cache_ttl, plan.cache_max_entries, plan.owner
                    )
                elif outcome.cache_value is not None:
                    await self.cache_set(
                        key, outcome.cache_value, plan.cache_ttl, plan.cache_max_entries
                    )
                else:
                    await self.lock_release("c:" + key, plan.owner)
            except BackendUnavailable as exc:
                failed = failed or exc
        if outcome.slot_release and plan.slot_key is not None:
            try:
                await self.slot_release(plan.slot_key, plan.slot_holder)
            except BackendUnavailable as exc:
                failed = failed or exc
        if failed is not None:
            raise failed
        return transition

    # -- several calls' writes, and the next admission after them ------------------------
    # The executor writes what calls settle behind their answers (``runtime._settle``): in
    # batches, and ahead of its next admission. A shared store sends each batch in one round
    # trip (Redis: one pipeline); these defaults run the steps one after the other.
    async def settle_many(
        self, writes: Sequence[tuple[CallPlan, Settlement]]
    ) -> list[Transition | None]:
        """``settle`` each of ``writes`` in order; their breaker transitions, in order.

        Raises :class:`BackendUnavailable` when the store could not be reached (then any of
        them may or may not have been made: the caller sends them again, and every write but
        a breaker record is idempotent).
        """
        return [await self.settle(plan, outcome) for plan, outcome in writes]

    async def admit_after(
        self, writes: Sequence[tuple[CallPlan, Settlement]], plan: CallPlan
    ) -> tuple[Clearance, list[Transition | None]]:
        """``settle_many(writes)`` then ``admit(plan)``, in one round trip where the store
        allows it: a process's next call sees every write of its earlier calls."""
        transitions = await self.settle_many(writes) if writes else []
        return await self.admit(plan), transitions

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
