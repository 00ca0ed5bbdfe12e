"""A tool's call plan, and the prepared call its chain is handed.

:class:`ToolPlan`: everything about running a tool's calls that does not change per call,
compiled once per tool and executor when the tool's policy is first resolved: the
validator's fast path, how the handler runs, the process-local limits, the breaker's
settings, the metrics handle and the chain of policy layers this policy actually uses (folded
by ``runtime._layers.fold``). A call then costs only what its tool's policy asks for.

:class:`PreparedCall`: one call that found its tool and passed validation, frozen, with its
counters apart in :class:`CallStats` (the only thing layers write).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from toolwire._calls import ToolResult
from toolwire._context import Caller, ProgressCallback
from toolwire._fast import builder
from toolwire._tools import Tool
from toolwire.observe import ToolMetrics
from toolwire.runtime._limits import Limiter, RetryBudget
from toolwire.runtime._policy import Policy
from toolwire.state import BreakerConfig, BreakerState

# How the handler runs: an async handler awaited in the loop, a sync one in the loop
# ("inline"), in the thread pool, in a worker process; or no handler at all.
HandlerKind = Literal["async", "inline", "thread", "process", "none"]


def _kind(tool: Tool) -> HandlerKind:
    if tool.handler is None:
        return "none"
    if tool.isolation == "process":
        return "process"
    if tool.is_async:
        return "async"
    return "inline" if tool.isolation == "inline" else "thread"


class ToolPlan:
    """The compiled form of one tool under one executor's policies."""

    __slots__ = (
        "awaited",
        "bare",
        "breaker_cfg",
        "breaker_key",
        "budget",
        "cache_per_caller",
        "chain",
        "context_params",
        "handler",
        "keyed_chain",
        "kind",
        "limiter",
        "metrics",
        "name",
        "policy",
        "quick",
        "safe",
        "tool",
        "total_timeout",
        "validate",
    )

    def __init__(self, tool: Tool, policy: Policy, metrics: ToolMetrics | None) -> None:
        self.tool = tool
        self.name: str = tool.name  # a property on Tool: read once here, not per call
        self.policy = policy
        self.safe: bool = tool.spec.annotations.safe_to_repeat
        self.kind: HandlerKind = _kind(tool)
        self.handler: Callable[..., Any] | None = tool.handler
        self.context_params = tool.context_params
        # the validator's fast path (None: use validate), then the full check that reports
        self.quick: Callable[[Any], dict[str, Any] | None] = tool._get_validator().quick
        self.validate: Callable[[Any], Mapping[str, Any]] = tool.validate
        self.total_timeout = policy.total_timeout
        cap = 1 if tool.sequential else policy.concurrency
        self.limiter = (
            Limiter(cap, policy.max_queue, name=f"tool {tool.name}") if cap is not None else None
        )
        self.budget = RetryBudget(policy.retry.budget) if policy.retry is not None else None
        self.cache_per_caller = policy.cache is not None and policy.cache.scoped(tool)
        br = policy.breaker
        self.breaker_key = (br.key or tool.name) if br is not None else ""
        self.breaker_cfg = (
            BreakerConfig(
                window=br.window,
                window_type=br.window_type,
                min_calls=br.min_calls,
                failure_rate=br.failure_rate,
                slow_call_rate=br.slow_call_rate,
                open_for=br.open_for,
                half_open_calls=br.half_open_calls,
            )
            if br is not None
            else None
        )
        self.metrics = metrics
        # Set by runtime._layers.fold: the layers of a call without and with an idempotency
        # key (the idempotency layer is only in the second).
        self.chain: Chain | None = None
        self.keyed_chain: Chain | None = None
        # A call needing no layer but the attempt and no timer runs its handler directly in
        # the executor's own coroutine (one coroutine less): see Executor._run_one.
        # a bare call whose handler is awaited (async), not called (inline)
        self.awaited = self.kind == "async"
        self.bare = (
            self.kind in ("async", "inline")
            and policy.timeout is None
            and policy.total_timeout is None
            and not has_layers(policy, tool)
        )

    def chain_for(self, keyed: bool) -> Chain:
        chain = self.keyed_chain if keyed else self.chain
        assert chain is not None, "a plan is folded before its first call"
        return chain


def has_layers(policy: Policy, tool: Tool) -> bool:
    """Whether ``policy`` needs any layer above the attempt (an idempotency key aside)."""
    return (
        policy.cache is not None
        or policy.rate_limit is not None
        or policy.breaker is not None
        or policy.concurrency is not None
        or policy.retry is not None
        or tool.sequential
    )


class ToolLookup(Protocol):
    """What the executor needs of a toolbox: a tool by name (raising ``UnknownTool``)."""

    def get(self, name: str) -> Any: ...


class CallingBox(ToolLookup, Protocol):
    """What the task machinery needs of a toolbox: a tool by name and ``Toolbox.call`` (a
    protocol here, so the runtime names no class of the toolbox layer above it)."""

    def call(
        self,
        name: str,
        arguments: Any = "{}",
        *,
        caller: Caller | None = None,
        idempotency_key: str | None = None,
        call_id: str | None = None,
        deadline: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Awaitable[ToolResult]: ...


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


# A folded chain: its first layer (``runtime._layers``), called once per call.
Chain = Callable[[PreparedCall], Awaitable[ToolResult]]
