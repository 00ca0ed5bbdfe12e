"""What a tool can learn about the call it serves: ids, the caller, the deadline, cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ProgressCallback = Callable[[float, float | None, str | None], Awaitable[None] | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """Who is calling: set by the transport after authentication, or by the application.

    ``credentials`` (never logged, never in ``repr``) lets remote tools forward the caller's own
    token when a source is configured to.
    """

    id: str
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict)
    credentials: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """Injected into any handler parameter annotated ``tw.Context``; never part of a schema.

    Example::

        @tw.tool
        async def whoami(ctx: tw.Context) -> str:
            return ctx.caller.id if ctx.caller else "anonymous"
    """

    call_id: str
    tool_name: str
    caller: Caller | None = None
    deadline: float | None = None  # time.monotonic() value after which the call times out
    attempt: int = 1
    idempotency_key: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    progress: ProgressCallback | None = field(default=None, repr=False)
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)

    def time_left(self) -> float | None:
        """Seconds until the deadline (never negative), or None without a deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    @property
    def cancelled(self) -> bool:
        """True once the call was cancelled or timed out: sync tools should poll it and stop."""
        return self.cancel_event.is_set()

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Tell the caller how far the call has got (forwarded as MCP progress, for example)."""
        if self.progress is None:
            return
        outcome = self.progress(progress, total, message)
        if outcome is not None:
            await outcome
