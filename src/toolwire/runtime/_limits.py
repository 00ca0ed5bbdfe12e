"""Per-process limits: a concurrency limiter with a bounded wait queue, the retry budget;
and the retry budget shared through a store.

On a shared state store a tool's ``Policy.concurrency`` is also held across processes
(``runtime._layers.shared_slots``); its refusals are the ones made here (``queue_full``,
``wait_timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from toolwire._errors import ToolFailure
from toolwire.state import BackendUnavailable, StateBackend
from toolwire.state._base import budget_cap


def queue_full(name: str) -> ToolFailure:
    """The refusal of a caller that finds ``name``'s slots taken and its wait queue full."""
    return ToolFailure(
        "rate_limited",
        f"{name} is at its concurrency limit and its wait queue is full; try again shortly",
        retry_after=0.1,
    )


def wait_timeout(name: str) -> ToolFailure:
    """The failure of a caller whose deadline passed while it waited for a slot of ``name``."""
    return ToolFailure("timeout", f"timed out waiting for a free slot of {name}")


class Limiter:
    """At most ``capacity`` holders; at most ``max_queue`` waiters (None: unbounded).

    A caller that finds the queue full is refused at once (``rate_limited``); a waiter whose
    deadline passes leaves the queue (``timeout``). Slots are handed over first-come
    first-served, so a burst cannot starve an early waiter. ``free`` and ``waiters`` are read
    (and ``free`` taken) directly by the executor's hot path: a slot is free exactly when
    ``free > 0 and not waiters``.
    """

    __slots__ = ("capacity", "free", "max_queue", "name", "waiters")

    def __init__(self, capacity: int, max_queue: int | None = None, *, name: str = "") -> None:
        if capacity < 1:
            raise ValueError("concurrency limits must be >= 1")
        self.capacity = capacity
        self.max_queue = max_queue
        self.name = name
        self.free = capacity
        self.waiters: deque[asyncio.Future[None]] = deque()

    @property
    def in_use(self) -> int:
        return self.capacity - self.free

    @property
    def waiting(self) -> int:
        return len(self.waiters)

    def try_acquire(self) -> bool:
        """Take a slot without waiting (the common, uncontended case)."""
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return True
        return False

    async def acquire(self, deadline: float | None) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        if self.max_queue is not None and len(self.waiters) >= self.max_queue:
            raise queue_full(self.name)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self.waiters.append(fut)
        try:
            if deadline is None:
                await fut
            else:
                async with asyncio.timeout_at(loop.time() + (deadline - time.monotonic())):
                    await fut
        except BaseException as exc:
            if fut.done() and not fut.cancelled():
                self.release()  # we were handed a slot while leaving: pass it on
            else:
                fut.cancel()
                with contextlib.suppress(ValueError):
                    self.waiters.remove(fut)
            if isinstance(exc, TimeoutError):
                raise wait_timeout(self.name) from None
            raise

    def release(self) -> None:
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self.free += 1


class RetryBudget:
    """A token bucket: each call deposits ``ratio`` tokens, each retry spends one.

    Under sustained failure retries add at most ``ratio`` extra load; ``reserve`` tokens let a
    quiet tool retry its first few failures freely. Savings are capped at the deposits of
    ``state.BUDGET_WINDOW`` (1,000) calls: enough for a burst as wide as the runtime's default
    concurrency to be retried, yet a long healthy period cannot bank an unbounded retry storm.
    """

    __slots__ = ("cap", "ratio", "reserve", "tokens")

    def __init__(self, ratio: float, reserve: float = 10.0) -> None:
        self.ratio = ratio
        self.reserve = reserve
        self.cap = budget_cap(ratio, reserve)
        self.tokens = reserve

    def deposit(self) -> None:
        tokens = self.tokens + self.ratio  # once per call: no min() call
        self.tokens = tokens if tokens < self.cap else self.cap

    def withdraw(self) -> bool:
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class SharedRetryBudget:
    """A tool's retry budget kept in a shared store, so every process and replica on it
    draws from one budget (the same rule as :class:`RetryBudget`).

    A call's deposit is counted here without I/O and sent with the next retry's withdrawal,
    or in the background once a token's worth (and at least ``FLUSH_EVERY`` seconds) has
    gathered, so a call that is not retried costs no round trip. While the store is
    unreachable (or keeps no budgets) the process's own budget decides, as before.
    """

    __slots__ = ("_flush", "backend", "key", "last_flush", "local", "pending")

    FLUSH_EVERY = 0.5

    def __init__(self, backend: StateBackend, key: str, ratio: float) -> None:
        self.backend = backend
        self.key = key
        self.local = RetryBudget(ratio)
        self.pending = 0  # deposits not sent yet
        self.last_flush = 0.0
        self._flush: asyncio.Task[None] | None = None

    def deposit(self) -> None:
        self.local.deposit()
        self.pending += 1
        if (
            self.pending * self.local.ratio >= 1.0
            and (self._flush is None or self._flush.done())
            and time.monotonic() - self.last_flush >= self.FLUSH_EVERY
        ):
            self._flush = asyncio.get_running_loop().create_task(self._deposit_behind())

    async def withdraw(self) -> bool:
        """Take one retry from the shared budget (False: none left)."""
        try:
            return await self._send(spend=True)
        except (BackendUnavailable, NotImplementedError):
            return self.local.withdraw()

    async def _send(self, *, spend: bool) -> bool:
        deposits, self.pending = self.pending, 0
        self.last_flush = time.monotonic()
        local = self.local
        return await self.backend.retry_budget(
            self.key, deposits, local.ratio, local.reserve, spend
        )

    async def _deposit_behind(self) -> None:
        # lost deposits only mean fewer retries later, never more
        with contextlib.suppress(BackendUnavailable, NotImplementedError):
            await self._send(spend=False)
