"""What the policy layers share with the executor that folded them, and nothing else of it.

The executor builds one :class:`Services`; each layer keeps the parts it needs. Layers never
see the executor itself, so a layer is written against this small surface (and a new policy
needs no change to the executor).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from toolwire._calls import ToolResult
from toolwire.runtime._limits import Limiter
from toolwire.runtime._outcomes import cancelling, finish
from toolwire.runtime._plan import PreparedCall
from toolwire.runtime._process import ProcessPool
from toolwire.runtime._settle import Settler
from toolwire.state import StateBackend

# A breaker changed state: (key, old, new)
BreakerListener = Callable[[str, str, str], None]
# Run another tool with a call's arguments (a breaker's FallbackTool): (call, tool name)
Redirect = Callable[[PreparedCall, str], Awaitable[ToolResult]]


class Flights:
    """Single flight in this process: identical calls in flight at once run once.

    A key is registered (with no future: most flights have no waiter) by the call that runs
    it; a second call with the same key creates the future and waits on it. The waiters get
    the first call's result (marked cached); if the first call is cancelled, they run the
    call themselves.
    """

    __slots__ = ("_flights",)

    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[ToolResult] | None] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._flights

    def begin(self, key: str) -> bool:
        """Register ``key`` as ours, unless it is in flight already (then False)."""
        if key in self._flights:
            return False
        self._flights[key] = None
        return True

    def end(self, key: str, result: ToolResult | None) -> None:
        """Our flight of ``key`` ended: hand its waiters ``result`` (None: run yourselves)."""
        fut = self._flights.pop(key)
        if fut is not None:
            if result is None:
                fut.cancel()
            else:
                fut.set_result(result)

    async def join(self, key: str, call: PreparedCall) -> ToolResult | None:
        """Wait for the flight of ``key`` here; None if it was abandoned (or is gone)."""
        flights = self._flights
        if key not in flights:
            return None
        flight = flights[key]
        if flight is None:  # the first to wait for this flight
            flight = flights[key] = asyncio.get_running_loop().create_future()
        try:
            shared = await asyncio.shield(flight)
        except asyncio.CancelledError:
            if flight.cancelled() and not cancelling():
                return None
            raise
        call.stats.cached = True
        return finish(call, shared.value, shared.error)

    async def run(
        self, key: str, call: PreparedCall, body: Callable[[], Awaitable[ToolResult]]
    ) -> ToolResult:
        """``body()`` once for every identical call in flight here (a miss pays no join)."""
        while key in self._flights:
            joined = await self.join(key, call)
            if joined is not None:
                return joined
        self._flights[key] = None
        try:
            result = await body()
        except BaseException:
            self.end(key, None)
            raise
        self.end(key, result)
        return result


class Services:
    """The shared parts of one executor: its state backend and everything per process."""

    __slots__ = (
        "_procs",
        "_threads",
        "backend",
        "emit_breaker",
        "flights",
        "idempotency_ttl",
        "owner",
        "process_workers",
        "redirect",
        "settler",
        "slots",
        "thread_workers",
    )

    def __init__(
        self,
        *,
        backend: StateBackend,
        owner: str,
        slots: Limiter,
        idempotency_ttl: float,
        emit_breaker: BreakerListener,
        redirect: Redirect,
        thread_workers: int | None,
        process_workers: int,
    ) -> None:
        self.backend = backend
        self.owner = owner  # names this executor's claims in the store (unique per executor)
        self.slots = slots  # the executor-wide concurrency limit (max_concurrency)
        self.idempotency_ttl = idempotency_ttl
        self.emit_breaker = emit_breaker
        self.redirect = redirect
        self.flights = Flights()
        self.settler = Settler(backend, emit_breaker)
        self.thread_workers = thread_workers
        self.process_workers = process_workers
        self._threads: ThreadPoolExecutor | None = None
        self._procs: ProcessPool | None = None

    def threads(self) -> ThreadPoolExecutor:
        """The pool running sync handlers (``isolation="thread"``), made on first use."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.thread_workers, "toolwire")
        return self._threads

    def processes(self) -> ProcessPool:
        """The worker processes of ``isolation="process"``, started on first use."""
        if self._procs is None:
            self._procs = ProcessPool(self.process_workers)
        return self._procs

    async def aclose(self) -> None:
        if self._procs is not None:
            await self._procs.aclose()
            self._procs = None
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None
