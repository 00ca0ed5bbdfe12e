"""What a tool can learn about the call it serves: ids, the caller, the deadline, cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from toolwire._fast import builder

_CANCEL_LOCK = threading.Lock()

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
    # Created on first use: most calls never look at cancellation, and a threading.Event
    # (a Condition and a Lock) was a tenth of a served call's own Python time.
    _cancel: threading.Event | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def cancel_event(self) -> threading.Event:
        """Set when the call is cancelled or times out; sync tools may ``wait()`` on it."""
        event = self._cancel
        if event is None:
            with _CANCEL_LOCK:  # the runtime (on timeout) and the tool's thread may race here
                event = self._cancel
                if event is None:
                    event = threading.Event()
                    _set_cancel(self, event)
        return event

    @classmethod
    def _for_call(
        cls,
        call_id: str,
        tool_name: str,
        caller: Caller | None,
        deadline: float | None,
        attempt: int,
        idempotency_key: str | None,
        progress: ProgressCallback | None,
    ) -> Context:
        """The runtime's constructor, once per call (see ``toolwire._fast``: the generated
        frozen ``__init__`` cost twice as much, in the hot path of every served call). Each
        context gets its own metadata dict, as the dataclass's default factory gives."""
        return _build_context(
            call_id, tool_name, caller, deadline, attempt, idempotency_key, {}, progress, None
        )

    def time_left(self) -> float | None:
        """Seconds until the deadline (never negative), or None without a deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    @property
    def cancelled(self) -> bool:
        """True once the call was cancelled or timed out: sync tools should poll it and stop."""
        event = self._cancel
        return event is not None and event.is_set()

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Tell the caller how far the call has got (forwarded as MCP progress, for example)."""
        if self.progress is None:
            return
        outcome = self.progress(progress, total, message)
        if outcome is not None:
            await outcome


_build_context = builder(Context)
_set_cancel = Context.__dict__["_cancel"].__set__
