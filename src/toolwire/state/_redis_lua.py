"""The Lua scripts of the Redis backend: every read-then-write is one of them (atomic).

Each policy is a Lua function, so the single-policy scripts and the combined ``admit`` /
``settle`` scripts run the very same code. Time comes from the server's ``TIME``.
"""

from __future__ import annotations

NOW = "local _t = redis.call('TIME') local now = tonumber(_t[1]) + tonumber(_t[2]) / 1000000\n"

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

FORCE = """
local h, wk = KEYS[1], KEYS[2]
local gen = tonumber(redis.call('HGET', h, 'gen') or '0') + 1
redis.call('DEL', wk)
redis.call('HSET', h, 'st', ARGV[1], 'gen', gen, 'wn', 0, 'wf', 0, 'ws', 0, 'oa', '0')
return gen
"""

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

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: cache key, lock key. ARGV: owner, lock ttl ms. Returns {1, value} or {0, locked}.
GET_OR_LOCK = """
local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, 1} end
return {0, 0}
"""

# KEYS: cache key, lock key. ARGV: value, ttl ms, owner.
SET_UNLOCK = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""

# KEYS: record. ARGV: 'p:' .. owner, 'd:' .. data, ttl ms. Finishes only the owner's own claim
# (or a record that expired meanwhile): a late finisher never overwrites another's result.
IDEM_FINISH = """
local v = redis.call('GET', KEYS[1])
if (not v) or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""

IDEM_BEGIN = """
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return {'new'}
end
if string.sub(v, 1, 2) == 'p:' then return {'pending'} end
return {'done', string.sub(v, 3)}
"""

# Concurrency slots of one tool, shared by every process: h holds the holders scored by when
# their lease ends (renewed while they run, so a dead process's slots come back by
# themselves), q the waiters scored by arrival (first come first served) and x the same
# waiters scored by when they stop counting unless they ask again. A slot goes to a caller
# only when fewer waiters are ahead of it than slots are free, so newcomers cannot overtake
# the queue. Returns 'held', 'queued' or 'full' (max_queue < 0: unbounded).
SLOT_FN = """
local function slot_take(h, q, x, holder, limit, max_queue, lease_ms, wait_ms)
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
SLOT_ACQUIRE = (
    NOW + SLOT_FN + "return slot_take(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]),"
    " tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))"
)

SLOT_GIVE_FN = """
local function slot_give(h, q, x, holder)
redis.call('ZREM', h, holder)
redis.call('ZREM', q, holder)
redis.call('ZREM', x, holder)
end
"""
SLOT_RELEASE = SLOT_GIVE_FN + "slot_give(KEYS[1], KEYS[2], KEYS[3], ARGV[1]) return 1"

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

# The before-call decisions of one call in one step, in chain order (CallPlan / Clearance).
# Only the policies in use send their keys and arguments, in this order: cache (KEYS cache,
# lock), idempotency (KEYS record), rate (KEYS tat; ARGV interval, limit, max_wait), breaker
# (KEYS hash; ARGV open_for, half_open_calls), concurrency slot (KEYS holders, queue, queue
# expiry; ARGV holder, limit, max_queue, lease ms, waiter ttl ms). ARGV starts with owner,
# lease ms and the policies used ('c', 'i', 'r', 'b', 's' letters). Returns {stop, data,
# locked, claimed, wait, allowed, state, gen, retry, slot}; a stop gives back the claims this
# step took before it; a rate-limit wait stops before the breaker and the slot (5 values).
ADMIT = (
    NOW
    + RATE_FN
    + ACQUIRE_FN
    + SLOT_FN
    + """
local owner, lease, use = ARGV[1], ARGV[2], ARGV[3]
local ki, ai = 0, 3
local function key() ki = ki + 1 return KEYS[ki] end
local function arg() ai = ai + 1 return tonumber(ARGV[ai]) end
local lk, ik
local locked, claimed = 0, 0
local function undo()
  if locked == 1 and redis.call('GET', lk) == owner then redis.call('DEL', lk) end
  if claimed == 1 and redis.call('GET', ik) == 'p:' .. owner then redis.call('DEL', ik) end
end
if string.find(use, 'c', 1, true) then
  local ck = key()
  lk = key()
  local v = redis.call('GET', ck)
  if v then return {'cache_hit', v} end
  if not redis.call('SET', lk, owner, 'NX', 'PX', lease) then return {'cache_busy'} end
  locked = 1
end
if string.find(use, 'i', 1, true) then
  ik = key()
  local v = redis.call('GET', ik)
  if v then
    undo()
    if string.sub(v, 1, 2) == 'p:' then return {'idem_pending'} end
    return {'idem_done', string.sub(v, 3)}
  end
  redis.call('SET', ik, 'p:' .. owner, 'PX', lease)
  claimed = 1
end
local wait = '0'
if string.find(use, 'r', 1, true) then
  local rk = key()
  -- (Lua leaves the order of evaluating call arguments open: one per statement)
  local interval = arg()
  local limit = arg()
  local r = rate_take(rk, interval, limit, arg())
  if r[1] == 0 then
    undo()
    return {'rate_limited', '', 0, 0, r[2]}
  end
  wait = r[2]
  if tonumber(wait) > 0 then return {'', '', locked, claimed, wait} end
end
local a = {0, '', 0, '-1'}
if string.find(use, 'b', 1, true) then
  local bk = key()
  local open_for = arg()
  a = breaker_acquire(bk, open_for, arg())
  if a[1] == 0 then
    undo()
    return {'circuit_open', '', 0, 0, '0', a[1], a[2], a[3], a[4]}
  end
end
local slot = ''
if string.find(use, 's', 1, true) then
  local hk, qk, xk = key(), key(), key()
  ai = ai + 1
  local holder = ARGV[ai]
  local limit = arg()
  local max_queue = arg()
  local lease_ms = arg()
  slot = slot_take(hk, qk, xk, holder, limit, max_queue, lease_ms, arg())
end
return {'', '', locked, claimed, wait, a[1], a[2], a[3], a[4], slot}
"""
)

# The after-call writes of one call in one step (Settlement). ARGV starts with owner, cache
# mode ('s' store, 'u' unlock), idempotency mode ('f' finish, 'a' abandon), '1' to record
# on the breaker and '1' to give a concurrency slot back; then only what is used, in this
# order: cache (KEYS cache, lock; ARGV value, ttl ms when storing), idempotency (KEYS record;
# ARGV data, ttl ms when finishing), slot (KEYS holders, queue, queue expiry; ARGV holder),
# breaker (KEYS hash, window; ARGV breaker_record's 9 arguments).
# Returns the breaker's {old, new} (empty when not recorded).
SETTLE = (
    NOW
    + RECORD_FN
    + SLOT_GIVE_FN
    + """
local owner, cmode, imode, rec, sl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ki, ai = 0, 5
local function key() ki = ki + 1 return KEYS[ki] end
local function arg() ai = ai + 1 return ARGV[ai] end
if cmode ~= '' then
  local ck = key()
  local lk = key()
  if string.find(cmode, 's', 1, true) then
    local value = arg()
    redis.call('SET', ck, value, 'PX', arg())
  end
  if string.find(cmode, 'u', 1, true) and redis.call('GET', lk) == owner then
    redis.call('DEL', lk)
  end
end
if imode ~= '' then
  local ik = key()
  if imode == 'f' then
    local data, ttl = arg(), arg()
    local cur = redis.call('GET', ik)
    if (not cur) or cur == 'p:' .. owner then redis.call('SET', ik, 'd:' .. data, 'PX', ttl) end
  elseif redis.call('GET', ik) == 'p:' .. owner then
    redis.call('DEL', ik)
  end
end
if sl == '1' then
  local hk, qk, xk = key(), key(), key()
  ai = ai + 1
  slot_give(hk, qk, xk, ARGV[ai])
end
if rec == '1' then
  local h = key()
  local wk = key()
  return breaker_record(h, wk, {unpack(ARGV, ai + 1, ai + 9)})
end
return {}
"""
)
