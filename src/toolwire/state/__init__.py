"""Shared state for the runtime's policies: in memory (default) or in Redis.

``RedisBackend`` lives in ``toolwire.state.redis`` and needs the ``redis`` extra. Tasks have a
store of their own: ``TaskStore`` (the contract), ``MemoryTaskStore`` and ``RedisTaskStore``.
"""

from typing import TYPE_CHECKING, Any

from toolwire.state._base import (
    BREAKER_STATES,
    Admission,
    BackendUnavailable,
    BreakerConfig,
    BreakerState,
    CallPlan,
    Clearance,
    IdemRecord,
    Outcome,
    RateDecision,
    Settlement,
    SlotStatus,
    SlotWatch,
    StateBackend,
    Stop,
    Transition,
)
from toolwire.state._tasks import (
    Claim,
    NewTask,
    TaskEvent,
    TaskKeyReused,
    TaskLimitReached,
    TaskProgress,
    TaskRecord,
    TaskStore,
)
from toolwire.state._tasks_memory import MemoryTaskStore
from toolwire.state.memory import MemoryBackend

if TYPE_CHECKING:  # for type checkers and the API reference; loaded lazily below
    from toolwire.state._tasks_redis import RedisTaskStore

__all__ = [
    "BREAKER_STATES",
    "Admission",
    "BackendUnavailable",
    "BreakerConfig",
    "BreakerState",
    "CallPlan",
    "Claim",
    "Clearance",
    "IdemRecord",
    "MemoryBackend",
    "MemoryTaskStore",
    "NewTask",
    "Outcome",
    "RateDecision",
    "RedisTaskStore",
    "Settlement",
    "SlotStatus",
    "SlotWatch",
    "StateBackend",
    "Stop",
    "TaskEvent",
    "TaskKeyReused",
    "TaskLimitReached",
    "TaskProgress",
    "TaskRecord",
    "TaskStore",
    "Transition",
]


def __getattr__(name: str) -> Any:
    if name == "RedisTaskStore":  # its module pulls in the Lua scripts: loaded when used
        from toolwire.state._tasks_redis import RedisTaskStore

        return RedisTaskStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
