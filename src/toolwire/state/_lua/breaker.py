"""The breaker's Lua scripts (its state machine, mirroring ``state._breaker.BreakerCore``)
and the decoders of their replies.

Keys: the breaker hash ``br`` (``st`` state, ``gen`` generation, ``oa`` opened at, ``hp``
half-open permits, ``hd``/``hf``/``hs`` half-open done/failed/slow, ``hsi`` half-open since,
``wn``/``wf``/``ws`` window counts) and its sliding window ``brw``.
"""

from __future__ import annotations

from typing import Any

from toolwire.state._base import Admission, Transition
from toolwire.state._lua.common import NOW, breaker_state, fields, seconds

# Returns {allowed, state, generation, retry_after or -1}. Mirrors BreakerCore.acquire.
ACQUIRE_FN = """
local function breaker_acquire(h, open_for, n_trials)
local st = redis.call('HGET', h, 'st') or 'closed'
local gen = tonumber(redis.call('HGET', h, 'gen') or '0')
if st == 'closed' or st == 'disabled' then return {1, st, gen, '-1'} end
if st == 'forced_open' then return {0, st, gen, '-1'} end
local function to_half_open()
  gen = gen + 1
  st = 'half_open'
  redis.call('HSET', h, 'st', st, 'gen', gen, 'hp', n_trials, 'hd', 0, 'hf', 0, 'hs', 0,
             'hsi', tostring(now))
end
if st == 'open' then
  local left = tonumber(redis.call('HGET', h, 'oa')) + open_for - now
  if left > 0 then return {0, st, gen, tostring(left)} end
  to_half_open()
end
local permits = tonumber(redis.call('HGET', h, 'hp') or '0')
if permits <= 0 and now - tonumber(redis.call('HGET', h, 'hsi') or '0') >= open_for then
  to_half_open()
  permits = n_trials
end
if permits > 0 then
  redis.call('HSET', h, 'hp', permits - 1)
  return {1, st, gen, '-1'}
end
return {0, st, gen, tostring(math.min(1.0, open_for))}
end
"""
ACQUIRE = NOW + ACQUIRE_FN + "return breaker_acquire(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))"


def decode_acquire(reply: Any) -> Admission:
    """``ACQUIRE``'s reply ``{allowed, state, generation, retry_after}``: ``allowed`` 1 or 0,
    ``retry_after`` seconds as a string, ``'-1'`` for none."""
    allowed, state, generation, retry_after = fields(reply, 4)
    return Admission(
        allowed=bool(allowed),
        state=breaker_state(state),
        generation=int(generation),
        retry_after=seconds(retry_after),
    )


# h, wk: breaker hash, window key. A: generation, outcome (success|failure|ignore), slow,
# window, window_type, min_calls, failure_rate, slow_call_rate, half_open_calls (strings).
# Returns {old, new}. Mirrors BreakerCore.record.
RECORD_FN = """
local function breaker_record(h, wk, A)
local gen = tonumber(A[1])
local outcome = A[2]
local slow = tonumber(A[3])
local window = tonumber(A[4])
local wtype = A[5]
local min_calls = tonumber(A[6])
local frate = tonumber(A[7])
local srate = tonumber(A[8])
local n_trials = tonumber(A[9])
local st = redis.call('HGET', h, 'st') or 'closed'
local cur = tonumber(redis.call('HGET', h, 'gen') or '0')
if gen ~= cur or (st ~= 'closed' and st ~= 'half_open') then return {st, st} end
local failed = 0
if outcome == 'failure' then failed = 1 end
local function tripped(n, f, s)
  return n > 0 and (f / n >= frate or s / n >= srate)
end
local new_st = st
local function to(new)
  new_st = new
  redis.call('HSET', h, 'st', new, 'gen', cur + 1)
  if new == 'open' then redis.call('HSET', h, 'oa', tostring(now)) end
  if new == 'closed' then
    redis.call('DEL', wk)
    redis.call('HSET', h, 'wn', 0, 'wf', 0, 'ws', 0)
  end
end
if st == 'half_open' then
  if outcome == 'ignore' then
    redis.call('HINCRBY', h, 'hp', 1)
    return {st, st}
  end
  local d = redis.call('HINCRBY', h, 'hd', 1)
  local f = redis.call('HINCRBY', h, 'hf', failed)
  local s = redis.call('HINCRBY', h, 'hs', slow)
  if d >= n_trials then
    if tripped(d, f, s) then to('open') else to('closed') end
    return {st, new_st}
  end
  return {st, st}
end
if outcome == 'ignore' then return {st, st} end
local n, f, s
if wtype == 'count' then
  redis.call('RPUSH', wk, failed * 2 + slow)
  n = redis.call('HINCRBY', h, 'wn', 1)
  f = redis.call('HINCRBY', h, 'wf', failed)
  s = redis.call('HINCRBY', h, 'ws', slow)
  if redis.call('LLEN', wk) > window then
    local code = tonumber(redis.call('LPOP', wk))
    local of = math.floor(code / 2)
    local os = code % 2
    n = redis.call('HINCRBY', h, 'wn', -1)
    f = redis.call('HINCRBY', h, 'wf', 0 - of)
    s = redis.call('HINCRBY', h, 'ws', 0 - os)
  end
  if n < math.min(min_calls, window) then return {st, st} end
else
  local sec = math.floor(now)
  redis.call('HINCRBY', wk, sec .. ':n', 1)
  redis.call('HINCRBY', wk, sec .. ':f', failed)
  redis.call('HINCRBY', wk, sec .. ':s', slow)
  n, f, s = 0, 0, 0
  local all = redis.call('HGETALL', wk)
  for i = 1, #all, 2 do
    local field = all[i]
    local at = tonumber(string.sub(field, 1, -3))
    if at <= sec - window then
      redis.call('HDEL', wk, field)
    else
      local kind = string.sub(field, -1)
      local v = tonumber(all[i + 1])
      if kind == 'n' then n = n + v elseif kind == 'f' then f = f + v else s = s + v end
    end
  end
  redis.call('PEXPIRE', wk, math.floor((window + 1) * 1000))
  if n < min_calls then return {st, st} end
end
if tripped(n, f, s) then to('open') end
return {st, new_st}
end
"""
RECORD = NOW + RECORD_FN + "return breaker_record(KEYS[1], KEYS[2], ARGV)"


def decode_record(reply: Any) -> Transition:
    """``RECORD``'s reply ``{old, new}``: the states before and after (equal: no change)."""
    old, new = fields(reply, 2)
    return Transition(old=breaker_state(old), new=breaker_state(new))


FORCE = """
local h, wk = KEYS[1], KEYS[2]
local gen = tonumber(redis.call('HGET', h, 'gen') or '0') + 1
redis.call('DEL', wk)
redis.call('HSET', h, 'st', ARGV[1], 'gen', gen, 'wn', 0, 'wf', 0, 'ws', 0, 'oa', '0')
return gen
"""
