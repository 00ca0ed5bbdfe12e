"""The rate limit's Lua script (GCRA, one counter key ``rl`` per tool or tool and caller) and
the decoder of its reply."""

from __future__ import annotations

from typing import Any

from toolwire.state._base import RateDecision
from toolwire.state._lua.common import NOW, fields

# k: tat key. Returns {allowed, wait}. GCRA.
RATE_FN = """
local function rate_take(k, interval, limit, max_wait)
local tat = tonumber(redis.call('GET', k) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - limit - now
if wait > max_wait then return {0, tostring(wait)} end
redis.call('SET', k, tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
if wait < 0 then wait = 0 end
return {1, tostring(wait)}
end
"""
RATE = (
    NOW
    + RATE_FN
    + "return rate_take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))"
)


def decode_rate(reply: Any) -> RateDecision:
    """``RATE``'s reply ``{allowed, wait}``: allowed (1) with ``wait`` seconds to sleep first
    (the slot is reserved), or refused (0) with ``wait`` the seconds until one is free."""
    allowed, wait = fields(reply, 2)
    if allowed:
        return RateDecision(allowed=True, wait=float(wait))
    return RateDecision(allowed=False, retry_after=float(wait))
