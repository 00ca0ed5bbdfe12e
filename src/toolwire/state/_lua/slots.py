"""The shared concurrency limit's Lua scripts (a lease semaphore per tool), and the decoders
of their replies.

Keys: the holders ``sem`` (scored by when their lease ends), the queue ``semq`` (scored by
arrival) and the queue's expiry ``semx`` (scored by when a waiter stops counting). A waiter
is woken through its process's wake list ``semw:{tool}:<owner>`` (see ``SLOT_WAKE_FN``).
"""

from __future__ import annotations

from typing import Any

from toolwire.state._base import WAITER_TTL, SlotStatus
from toolwire.state._lua.common import NOW, slot_status, text

# Concurrency slots of one tool, shared by every process: h holds the holders scored by when
# their lease ends (renewed while they run, so a dead process's slots come back by
# themselves), q the waiters scored by arrival (first come first served) and x the same
# waiters scored by when they stop counting unless they ask again. A slot goes to a caller
# only when fewer waiters are ahead of it than slots are free, so newcomers cannot overtake
# the queue. A waiter that takes its slot while more are free wakes the waiters next in
# line whose turn it now is (a release wakes only the first). Returns 'held', 'queued' or
# 'full' (max_queue < 0: unbounded).
SLOT_FN = """
local function slot_take(h, q, x, holder, limit, max_queue, lease_ms, wait_ms, wake)
local function keep(k, ms)
  if redis.call('PTTL', k) < ms then redis.call('PEXPIRE', k, ms) end
end
redis.call('ZREMRANGEBYSCORE', h, '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', x, '-inf', now, 'LIMIT', 0, 1000)
if #gone > 0 then
  redis.call('ZREM', q, unpack(gone))
  redis.call('ZREM', x, unpack(gone))
end
if redis.call('ZSCORE', h, holder) then return 'held' end
local rank = redis.call('ZRANK', q, holder)
local free = limit - redis.call('ZCARD', h)
if free > 0 then
  local ahead = rank
  if not ahead then ahead = redis.call('ZCARD', q) end
  if ahead < free then
    redis.call('ZADD', h, now + lease_ms / 1000, holder)
    keep(h, lease_ms + 1000)
    if rank then
      redis.call('ZREM', q, holder)
      redis.call('ZREM', x, holder)
      slot_unwake(wake, holder)
      if free > 1 then slot_wake(wake, redis.call('ZRANGE', q, 0, free - 2)) end
    end
    return 'held'
  end
end
if not rank then
  if max_queue >= 0 and redis.call('ZCARD', q) >= max_queue then return 'full' end
  redis.call('ZADD', q, now, holder)
end
redis.call('ZADD', x, now + wait_ms / 1000, holder)
keep(q, wait_ms + 1000)
keep(x, wait_ms + 1000)
return 'queued'
end
"""
# Wakes the given waiters: each name is pushed onto its process's wake list (``wake`` ..
# owner, the holder name up to its last ':'), which that process's listener pops with BLPOP
# and hands to the waiter. A wake-up is only a hint to ask again (the queue decides), so a
# lost or stale one costs nothing but a bounded wait. A waiter leaving the queue (it took its
# slot, or gave up) takes its unread wake-ups off (``slot_unwake``); a dead one's expire.
SLOT_WAKE_FN = f"""
local function slot_wake(wake, waiters)
for _, w in ipairs(waiters) do
  local owner = string.match(w, '^(.*):[^:]*$')
  if owner then
    local k = wake .. owner
    redis.call('RPUSH', k, w)
    redis.call('PEXPIRE', k, {int(WAITER_TTL * 2000)})
  end
end
end
local function slot_unwake(wake, holder)
local owner = string.match(holder, '^(.*):[^:]*$')
if owner then redis.call('LREM', wake .. owner, 0, holder) end
end
"""
SLOT_ACQUIRE = (
    NOW
    + SLOT_WAKE_FN
    + SLOT_FN
    + "return slot_take(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]),"
    " tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6])"
)


def decode_slot_acquire(reply: Any) -> SlotStatus:
    """``SLOT_ACQUIRE``'s reply: ``'held'``, ``'queued'`` or ``'full'``."""
    return slot_status(reply)


# Gives a slot back (or leaves the queue); a slot given back wakes the first waiter.
SLOT_GIVE_FN = """
local function slot_give(h, q, x, holder, wake)
local was = redis.call('ZREM', h, holder)
if redis.call('ZREM', q, holder) == 1 then slot_unwake(wake, holder) end
redis.call('ZREM', x, holder)
if was == 1 then slot_wake(wake, redis.call('ZRANGE', q, 0, 0)) end
end
"""
SLOT_RELEASE = (
    SLOT_WAKE_FN + SLOT_GIVE_FN + "slot_give(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2]) return 1"
)

# KEYS: holders. ARGV: lease ms, then this process's holders. Extends their leases; returns
# the holders that were no longer there (their lease ran out before it was renewed).
SLOT_RENEW = (
    NOW
    + """
local lease = tonumber(ARGV[1])
local lost = {}
for i = 2, #ARGV do
  if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + lease / 1000, ARGV[i]) == 0
     and not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    lost[#lost + 1] = ARGV[i]
  end
end
if redis.call('PTTL', KEYS[1]) < lease + 1000 then redis.call('PEXPIRE', KEYS[1], lease + 1000) end
return lost
"""
)


def decode_slot_renew(reply: Any) -> list[str]:
    """``SLOT_RENEW``'s reply: the holders whose lease had run out before it was renewed."""
    return [text(name) for name in reply]
