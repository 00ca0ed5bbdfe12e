"""Policies: small immutable descriptions of how calls to a tool are guarded.

They hold configuration only. Per-call state lives in fresh objects the executor creates per
call; shared state (breaker windows, rate-limit counters, cache entries, and on Redis the
concurrency slots) lives in a state backend (memory or Redis). The chain, outermost first:
cache -> idempotency -> rate limit -> breaker -> concurrency -> retry -> per-attempt timeout ->
handler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from toolwire._errors import ErrorKind

RetryOn = Sequence[type[BaseException] | ErrorKind]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """Exponential backoff with full jitter.

    ``retry_on`` is required: exception types and/or error kinds that are worth another try.
    There is deliberately no default, so nothing is retried by accident.
    """

    retry_on: RetryOn
    attempts: int = 3
    backoff: float = 0.1
    max_backoff: float = 5.0
    max_elapsed: float | None = None
    budget: float = 0.2  # at most this fraction of extra load from retries (per tool)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("Retry.attempts must be >= 1")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("Retry.backoff and max_backoff must be >= 0")
        if self.budget < 0:
            raise ValueError("Retry.budget must be >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Breaker:
    """A circuit breaker with Resilience4j semantics (CLOSED / OPEN / HALF_OPEN)."""

    window: int = 20  # calls (count window) or seconds (time window)
    window_type: Literal["count", "time"] = "count"
    min_calls: int = 10
    failure_rate: float = 0.5
    slow_call_s: float | None = None
    slow_call_rate: float = 1.0
    open_for: float = 30.0
    half_open_calls: int = 1
    record_on: Sequence[type[BaseException] | ErrorKind] = ()  # empty: every failure counts
    key: str | None = None  # share one breaker between tools calling the same upstream
    fallback: Any = None  # a value, or a tool name given as ``FallbackTool("name")``

    def __post_init__(self) -> None:
        if self.window < 1 or self.min_calls < 1 or self.half_open_calls < 1:
            raise ValueError("Breaker.window, min_calls and half_open_calls must be >= 1")
        if not 0 < self.failure_rate <= 1 or not 0 < self.slow_call_rate <= 1:
            raise ValueError("Breaker rates must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class FallbackTool:
    """A breaker fallback that calls another tool with the same arguments."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cache:
    """Cache successful results of read-only/idempotent tools.

    ``per_caller``: one entry per caller (True) or one for everyone (False). Left at None, a
    tool whose handler takes a ``tw.Context`` (so its answer may depend on who calls) is
    cached per caller and any other tool is shared; say False to share a Context tool's cache.

    Example::

        tw.Policy(cache=tw.Cache(ttl=300.0))
    """

    ttl: float = 60.0
    max_entries: int = 10_000
    per_caller: bool | None = None

    def scoped(self, tool: Any) -> bool:
        """Whether ``tool``'s entries are kept per caller under this cache."""
        if self.per_caller is not None:
            return self.per_caller
        return bool(tool.context_params)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """At most ``rate`` calls per ``per`` seconds; wait up to ``max_wait`` for a slot."""

    rate: float = 10
    per: float = 1.0
    max_wait: float = 0.0
    per_caller: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How calls to a tool are guarded. Every part is optional; ``None`` means off."""

    timeout: float | None = None  # per attempt, seconds
    total_timeout: float | None = None  # over all attempts and waits
    retry: Retry | None = None
    breaker: Breaker | None = None
    cache: Cache | None = None
    rate_limit: RateLimit | None = None
    # max in-flight calls of this tool: per process on the memory backend; on a shared one
    # (Redis) across every process and replica using it, falling back to per process while
    # the store is unreachable and fail_open allows
    concurrency: int | None = None
    max_queue: int | None = None  # callers allowed to wait for a slot (counted the same way)
    # when the shared state backend is unreachable: run anyway (True) or refuse (False);
    # None inherits from the layer below and means True when no layer sets it
    fail_open: bool | None = None
    tags: frozenset[str] = field(default_factory=frozenset)

    def merged(self, other: Policy | None) -> Policy:
        """This policy with every part that ``other`` sets taking precedence."""
        if other is None:
            return self
        values = {
            name: getattr(other, name) if getattr(other, name) is not None else getattr(self, name)
            for name in (
                "timeout",
                "total_timeout",
                "retry",
                "breaker",
                "cache",
                "rate_limit",
                "concurrency",
                "max_queue",
                "fail_open",
            )
        }
        return Policy(**values, tags=self.tags | other.tags)
