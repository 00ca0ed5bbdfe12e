"""How a prepared call ends: its result, a refusal, what an attempt raised, a claim's lease."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from toolwire._calls import ToolResult, new_result
from toolwire._errors import ErrorKind, ToolError, ToolwireError
from toolwire.runtime._plan import PreparedCall

_monotonic = time.monotonic


def finish(call: PreparedCall, value: Any = None, error: ToolError | None = None) -> ToolResult:
    """The call's result: ``value``, or ``error``, with the counters so far."""
    stats = call.stats
    return new_result(
        call.call_id,
        call.name,
        error is None,
        value,
        error,
        stats.attempts,
        stats.cached,
        _monotonic() - call.started,
    )


def refuse(call: PreparedCall, kind: ErrorKind, message: str, **extra: Any) -> ToolResult:
    """A result failing with ``kind``: the call ends here."""
    return finish(call, error=ToolError(kind=kind, message=message, **extra))


def cancelling() -> bool:
    """True when the running task itself is being cancelled (not a handler's own timeout)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def error_of(exc: BaseException) -> ToolError:
    """The error kind of what an attempt raised. The caller's own cancellation propagates."""
    if isinstance(exc, asyncio.CancelledError):
        if cancelling():
            raise exc
        return ToolError(kind="cancelled", message="the call was cancelled")
    if isinstance(exc, ToolwireError):
        return exc.to_error()
    if not isinstance(exc, Exception):
        raise exc  # KeyboardInterrupt, SystemExit: not a tool failure
    name = type(exc).__name__
    return ToolError(kind="execution_error", message=f"{name}: {exc}", details={"type": name})


def lease(call: PreparedCall) -> float:
    """How long a claim (lock, pending idempotency record) may outlive a crashed owner."""
    if call.deadline is not None:
        return max(1.0, call.deadline - _monotonic() + 1.0)
    policy = call.plan.policy
    t = policy.timeout
    if t is not None:
        retry = policy.retry
        return t * (retry.attempts if retry else 1) + 5.0
    return 300.0
