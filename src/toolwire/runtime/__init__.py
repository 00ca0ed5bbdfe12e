"""The runtime: executes calls concurrently under policies (timeouts, retries, breakers,
caching, rate limits, idempotency), with state in memory or Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolwire.runtime._policy import Breaker, Cache, FallbackTool, Policy, RateLimit, Retry
from toolwire.runtime._resolve import check_policy, effective_policy

if TYPE_CHECKING:
    from toolwire._backoff import backoff_delay
    from toolwire.runtime._executor import Executor
    from toolwire.runtime._tasks import (
        TaskHandle,
        TaskInfo,
        TaskPage,
        Tasks,
        TaskUpdate,
        UnknownTask,
    )

__all__ = [
    "Breaker",
    "Cache",
    "Executor",
    "FallbackTool",
    "Policy",
    "RateLimit",
    "Retry",
    "TaskHandle",
    "TaskInfo",
    "TaskPage",
    "TaskUpdate",
    "Tasks",
    "UnknownTask",
    "backoff_delay",
    "check_policy",
    "effective_policy",
]


_TASK_NAMES = frozenset(
    {"TaskHandle", "TaskInfo", "TaskPage", "TaskUpdate", "Tasks", "UnknownTask"}
)


def __getattr__(name: str) -> Any:
    # ``import toolwire`` loads the policy classes through this package; the executor (asyncio,
    # threads, processes, state backends) is only loaded when first used, to keep start-up fast.
    if name == "Executor":
        from toolwire.runtime._executor import Executor

        return Executor
    if name == "backoff_delay":  # (its module imports asyncio)
        from toolwire._backoff import backoff_delay

        return backoff_delay
    if name in _TASK_NAMES:  # the same, for the task machinery
        from toolwire.runtime import _tasks

        return getattr(_tasks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
