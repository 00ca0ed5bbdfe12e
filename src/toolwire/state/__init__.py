"""Shared state for the runtime's policies: in memory (default) or in Redis.

``RedisBackend`` lives in ``toolwire.state.redis`` and needs the ``redis`` extra.
"""

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
    StateBackend,
    Stop,
    Transition,
)
from toolwire.state.memory import MemoryBackend

__all__ = [
    "BREAKER_STATES",
    "Admission",
    "BackendUnavailable",
    "BreakerConfig",
    "BreakerState",
    "CallPlan",
    "Clearance",
    "IdemRecord",
    "MemoryBackend",
    "Outcome",
    "RateDecision",
    "Settlement",
    "SlotStatus",
    "StateBackend",
    "Stop",
    "Transition",
]
