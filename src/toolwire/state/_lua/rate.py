"""The rate limit's Lua script (GCRA, one counter key ``rl`` per tool or tool and caller) and
the decoder of its reply."""

from __future__ import annotations

import math
from typing import Any

from toolwire.state._base import MICROS, RateDecision, gcra_steps
from toolwire.state._lua.common import NOW, fields

# k: tat key. ARGV interval, limit, max_wait: whole microseconds (``gcra_steps``), as the
# stored theoretical arrival time and the returned wait; whole numbers stay exact in Lua's
# doubles, so a fresh bucket's burst is never refused by rounding. Returns {allowed, wait}.
RATE_FN = """
local function rate_take(k, interval, limit, max_wait)
local now_us = tonumber(_t[1]) * 1000000 + tonumber(_t[2])
local tat = tonumber(redis.call('GET', k) or '0')
if tat < now_us then tat = now_us end
local new_tat = tat + interval
local wait = new_tat - limit - now_us
if wait > max_wait then return {0, string.format('%d', wait)} end
redis.call('SET', k, string.format('%d', new_tat), 'PX', math.ceil((new_tat - now_us) / 1000) + 1)
if wait < 0 then wait = 0 end
return {1, string.format('%d', wait)}
end
"""
RATE = (
    NOW
    + RATE_FN
    + "return rate_take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))"
)


def decode_rate(reply: Any) -> RateDecision:
    """``RATE``'s reply ``{allowed, wait}``: allowed (1) with ``wait`` microseconds to sleep
    first (the slot is reserved), or refused (0) with ``wait`` the microseconds until one is
    free; decoded to seconds."""
    allowed, wait = fields(reply, 2)
    seconds = int(wait) / MICROS
    if allowed:
        return RateDecision(allowed=True, wait=seconds)
    return RateDecision(allowed=False, retry_after=seconds)


def rate_args(rate: float, per: float, max_wait: float) -> list[str]:
    """``rate_take``'s ARGV: interval, limit and max_wait in whole microseconds."""
    interval, limit = gcra_steps(rate, per)
    return [str(interval), str(limit), str(math.floor(max_wait * MICROS))]
