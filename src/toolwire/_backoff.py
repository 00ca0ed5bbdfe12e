"""How long to wait before trying again: the project's one backoff formula.

Every retry loop waits with :func:`backoff_delay`: the runtime's ``Retry`` and write-behind,
the task worker's store loops, the model clients, the Redis client's wait for a pooled
connection. It sits at the bottom of the layers (it imports nothing of toolwire), so the state
backends below the runtime and the model clients above it use the same function; it is public
as ``toolwire.runtime.backoff_delay``.
"""

from __future__ import annotations

import random

__all__ = ["backoff_delay"]


def backoff_delay(attempt: int, base: float, cap: float, floor: float | None = None) -> float:
    """How long to wait before retry number ``attempt`` (1 for the first retry).

    Exponential backoff with full jitter: uniform in ``[0, min(cap, base * 2**(attempt-1))]``,
    and at least ``floor`` when given (a server's ``Retry-After``).

    Example::

        await asyncio.sleep(backoff_delay(attempt, 0.5, 30.0, retry_after))
    """
    delay = random.uniform(0.0, min(cap, base * (2 ** (attempt - 1))))
    if floor is not None and floor > delay:
        return floor
    return delay
