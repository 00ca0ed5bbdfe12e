"""The shared retry budget's Lua script (one hash ``rb`` per tool) and its reply's decoder.

The same arithmetic as ``state.budget_step`` (which the memory store runs): tokens start at
the reserve, grow by ``ratio`` per call up to the cap, and a retry takes one when there is one.
"""

from __future__ import annotations

from typing import Any

from toolwire.state._base import BUDGET_IDLE

# KEYS: the budget. ARGV: deposits, ratio, reserve, cap, '1' to spend one retry. Returns 1
# when a retry was taken, else 0. The key expires when untouched for BUDGET_IDLE.
BUDGET = f"""
local t = tonumber(redis.call('HGET', KEYS[1], 't') or ARGV[3])
t = math.min(tonumber(ARGV[4]), t + tonumber(ARGV[1]) * tonumber(ARGV[2]))
local spent = 0
if ARGV[5] == '1' and t >= 1 then
  t = t - 1
  spent = 1
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', t))
redis.call('PEXPIRE', KEYS[1], {int(BUDGET_IDLE * 1000)})
return spent
"""


def decode_budget(reply: Any) -> bool:
    """``BUDGET``'s reply: True when a retry was taken."""
    return int(reply) == 1
