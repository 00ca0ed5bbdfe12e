"""What the policy layers are handed: a finished, typed call, and its counters apart.

``_prepare`` (in the executor) finds the tool, resolves its plan and validates the arguments;
every layer then reads a frozen :class:`PreparedCall` (nothing on it is ever ``None`` because
a layer has not run yet) and writes only its :class:`CallStats`: attempts, whether the result
came from a cache or a stored record, whether the handler ran, the last exception, the
breaker state the call met.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from toolwire._calls import ToolResult, new_result
from toolwire._context import Caller, ProgressCallback
from toolwire._errors import ErrorKind, ToolError, ToolwireError
from toolwire._fast import builder
from toolwire.state import BreakerState

if TYPE_CHECKING:
    from toolwire._tools import Tool
    from toolwire.runtime._plan import ToolPlan
    from toolwire.runtime._policy import Policy

_monotonic = time.monotonic


class ToolLookup(Protocol):
    """What the executor needs of a toolbox: a tool by name (raising ``UnknownTool``)."""

    def get(self, name: str) -> Any: ...


class CallStats:
    """The counters of one call, written by the layers as it goes through them."""

    __slots__ = ("attempts", "breaker_state", "cached", "deduplicated", "exc", "invoked")

    def __init__(self) -> None:
        self.attempts = 0
        self.cached = False
        self.deduplicated = False
        self.invoked = False  # the handler was started (not refused, not answered from state)
        self.exc: BaseException | None = None  # what the last attempt raised
        self.breaker_state: BreakerState | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedCall:
    """One call that found its tool and passed validation, ready for the tool's chain.

    ``name`` is the name the call used (an exported wire name may differ from the tool's,
    ``plan.name``); ``arguments`` its JSON text; ``kwargs`` the validated arguments;
    ``deadline`` the earlier of the caller's and the policy's ``total_timeout``
    (``time.monotonic()``); ``depth`` is 1 for a breaker's fallback call.
    """

    call_id: str
    name: str
    arguments: str
    kwargs: Mapping[str, Any]
    plan: ToolPlan
    caller: Caller | None
    idempotency_key: str | None
    deadline: float | None
    progress: ProgressCallback | None
    started: float
    box: ToolLookup
    stats: CallStats
    depth: int

    @property
    def tool(self) -> Tool:
        return self.plan.tool

    @property
    def policy(self) -> Policy:
        return self.plan.policy

    @property
    def caller_id(self) -> str | None:
        return self.caller.id if self.caller is not None else None


new_prepared = builder(PreparedCall)


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
