"""What every Lua script of the Redis backend shares: the server's clock, reading replies.

Time comes from the server's ``TIME``, so processes with different clocks agree. Replies are
read through the helpers below, which turn anything unexpected into ``BackendUnavailable``
(a store answering nonsense is as unusable as one that does not answer).
"""

from __future__ import annotations

from typing import Any, get_args

from toolwire.state._base import BREAKER_STATES, BackendUnavailable, BreakerState, SlotStatus

NOW = "local _t = redis.call('TIME') local now = tonumber(_t[1]) + tonumber(_t[2]) / 1000000\n"


_SLOT_STATUSES: tuple[SlotStatus, ...] = get_args(SlotStatus)


def text(value: Any) -> str:
    """A reply's string (Redis answers bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def breaker_state(value: Any) -> BreakerState:
    state = text(value)
    for known in BREAKER_STATES:
        if state == known:
            return known
    raise BackendUnavailable(f"Redis answered an unknown breaker state {state!r}")


def slot_status(value: Any) -> SlotStatus:
    status = text(value)
    for known in _SLOT_STATUSES:
        if status == known:
            return known
    raise BackendUnavailable(f"Redis answered an unknown slot status {status!r}")


def seconds(value: Any) -> float | None:
    """A duration sent as a string; ``-1`` (or less) means none."""
    out = float(value)
    return None if out < 0 else out


def fields(reply: Any, n: int) -> list[Any]:
    """A reply's ``n`` values, missing trailing ones as None (a script may stop early)."""
    if not isinstance(reply, list) or len(reply) > n:
        raise BackendUnavailable(f"Redis answered {reply!r} where a list of {n} was expected")
    return [*reply, *([None] * (n - len(reply)))]
