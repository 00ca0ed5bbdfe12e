"""The two scripts of one call: its decisions before it runs (``ADMIT``) and its writes
after (``SETTLE``), each one round trip, with the decoders of their replies.

Each is put together from the policies' own Lua functions (``breaker``, ``rate``, ``slots``),
so a combined script and a single-policy one run the very same code.
"""

from __future__ import annotations

from typing import Any

from toolwire.state._base import (
    MICROS,
    WAITER_TTL,
    Admission,
    BackendUnavailable,
    CallPlan,
    Clearance,
    Settlement,
    Transition,
)
from toolwire.state._lua.breaker import ACQUIRE_FN, RECORD_FN
from toolwire.state._lua.common import NOW, breaker_state, fields, seconds, slot_status, text
from toolwire.state._lua.rate import RATE_FN, rate_args
from toolwire.state._lua.slots import SLOT_FN, SLOT_GIVE_FN, SLOT_WAKE_FN
from toolwire.state._redis_keys import CACHE_LOCK, KeyNames

Request = tuple[list[str], list[Any]]  # a script's KEYS and ARGV

# The before-call decisions of one call in one step, in chain order (CallPlan / Clearance).
# Only the policies in use send their keys and arguments, in this order: cache (KEYS cache,
# lock), idempotency (KEYS record), rate (KEYS tat; ARGV interval, limit, max_wait, in
# microseconds), breaker
# (KEYS hash; ARGV open_for, half_open_calls), concurrency slot (KEYS holders, queue, queue
# expiry; ARGV holder, limit, max_queue, lease ms, waiter ttl ms, wake list prefix). ARGV
# starts with owner, lease ms and the policies used ('c', 'i', 'r', 'b', 's' letters).
# Returns {stop, data, locked, claimed, wait, allowed, state, gen, retry, slot}; a stop gives
# back the claims this step took before it; a rate-limit wait stops before the breaker and
# the slot (5 values).
ADMIT = (
    NOW
    + RATE_FN
    + ACQUIRE_FN
    + SLOT_WAKE_FN
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
  -- a lock already this owner's: this step replayed after its reply was lost (see below)
  if redis.call('GET', lk) ~= owner and not redis.call('SET', lk, owner, 'NX', 'PX', lease) then
    return {'cache_busy'}
  end
  locked = 1
end
if string.find(use, 'i', 1, true) then
  ik = key()
  local v = redis.call('GET', ik)
  -- A record pending for this very owner is this step's own claim: the step ran, its reply
  -- was lost (a primary that died after replicating it, a dropped connection) and the
  -- backend sent it again. Waiting for that claim would wait out its whole lease.
  if v and v ~= 'p:' .. owner then
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
  local wait_ms = arg()
  ai = ai + 1
  slot = slot_take(hk, qk, xk, holder, limit, max_queue, lease_ms, wait_ms, ARGV[ai])
end
return {'', '', locked, claimed, wait, a[1], a[2], a[3], a[4], slot}
"""
)


def ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def slot_args(plan: CallPlan, lease_s: float, names: KeyNames) -> list[Any]:
    """``slot_take``'s arguments: holder, limit, max_queue (-1: none), lease ms, waiter ms,
    the prefix of the tool's wake lists."""
    assert plan.slot_key is not None
    return [
        plan.slot_holder,
        plan.slot_limit,
        -1 if plan.slot_queue is None else plan.slot_queue,
        ms(lease_s),
        int(WAITER_TTL * 1000),
        names.wake(plan.slot_key),
    ]


def admit_request(plan: CallPlan, names: KeyNames, slot_lease: float) -> Request:
    """``ADMIT``'s keys and arguments for ``plan`` (only the policies it uses, in order)."""
    use = ""
    keys: list[str] = []
    args: list[Any] = [plan.owner, ms(plan.lease), ""]
    if plan.cache_key is not None:
        use += "c"
        keys += [names.key("c", plan.cache_key), names.lock(CACHE_LOCK + plan.cache_key)]
    if plan.idem_key is not None:
        use += "i"
        keys.append(names.key("id", plan.idem_key))
    if plan.rate_key is not None:
        use += "r"
        keys.append(names.key("rl", plan.rate_key))
        args += rate_args(plan.rate, plan.per, plan.max_wait)
    cfg = plan.breaker
    if plan.breaker_key is not None and cfg is not None:
        use += "b"
        keys.append(names.key("br", plan.breaker_key))
        args += [repr(cfg.open_for), cfg.half_open_calls]
    if plan.slot_key is not None:
        use += "s"
        keys += names.slots(plan.slot_key)
        args += slot_args(plan, slot_lease, names)
    args[2] = use
    return keys, args


def decode_admit(reply: Any) -> Clearance:
    """``ADMIT``'s reply ``{stop, data, locked, claimed, wait, allowed, state, gen, retry,
    slot}``, cut short after ``stop``/``data`` for a cache hit or an idempotency record
    (``cache_hit``, ``idem_done``: ``data`` is the value) and a busy key (``cache_busy``,
    ``idem_pending``), after ``wait`` for a refused rate slot (``rate_limited``: ``wait`` is
    the retry-after) or a positive wait (the breaker and slot are asked after it). ``stop`` is
    ``''`` when the call may run; ``allowed, state, gen, retry`` are the breaker's admission
    (``state`` ``''`` when the plan has no breaker), ``slot`` the concurrency slot's status
    (``''`` when none was asked for).
    """
    stop, data, locked, claimed, wait, allowed, state, gen, retry, slot = fields(reply, 10)
    stop = text(stop)
    if stop == "cache_hit":
        return Clearance(stop="cache_hit", data=bytes(data))
    if stop == "idem_done":
        return Clearance(stop="idem_done", data=bytes(data))
    if stop == "cache_busy":
        return Clearance(stop="cache_busy")
    if stop == "idem_pending":
        return Clearance(stop="idem_pending")
    if stop == "rate_limited":
        return Clearance(stop="rate_limited", retry_after=int(wait) / MICROS)
    breaker = None
    if state is not None and text(state):
        breaker = Admission(
            allowed=bool(allowed),
            state=breaker_state(state),
            generation=int(gen),
            retry_after=seconds(retry),
        )
    if stop == "circuit_open":
        return Clearance(stop="circuit_open", breaker=breaker)
    if stop:
        raise BackendUnavailable(f"Redis answered an unknown admission stop {stop!r}")
    return Clearance(
        cache_locked=bool(locked),
        idem_claimed=bool(claimed),
        wait=int(wait) / MICROS,  # the rate limiter's, in microseconds
        breaker=breaker,
        slot=slot_status(slot) if slot is not None and text(slot) else None,
    )


# The after-call writes of one call in one step (Settlement). ARGV starts with owner, cache
# mode ('s' store, 'u' unlock), idempotency mode ('f' finish, 'a' abandon), '1' to record
# on the breaker and '1' to give a concurrency slot back; then only what is used, in this
# order: cache (KEYS cache, lock; ARGV value, ttl ms when storing), idempotency (KEYS record;
# ARGV data, ttl ms when finishing), slot (KEYS holders, queue, queue expiry; ARGV holder,
# wake list prefix),
# breaker (KEYS hash, window; ARGV breaker_record's 9 arguments).
# Returns the breaker's {old, new} (empty when not recorded).
SETTLE = (
    NOW
    + RECORD_FN
    + SLOT_WAKE_FN
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
  ai = ai + 2
  slot_give(hk, qk, xk, ARGV[ai - 1], ARGV[ai])
end
if rec == '1' then
  local h = key()
  local wk = key()
  return breaker_record(h, wk, {unpack(ARGV, ai + 1, ai + 9)})
end
return {}
"""
)


def record_args(plan: CallPlan, outcome: Settlement) -> list[Any]:
    """``breaker_record``'s 9 arguments for the outcome of a call of ``plan``."""
    cfg = plan.breaker
    assert cfg is not None
    return [
        outcome.breaker_generation,
        outcome.outcome,
        int(outcome.slow),
        cfg.window,
        cfg.window_type,
        cfg.min_calls,
        repr(cfg.failure_rate),
        repr(cfg.slow_call_rate),
        cfg.half_open_calls,
    ]


def settle_request(plan: CallPlan, outcome: Settlement, names: KeyNames) -> Request | None:
    """``SETTLE``'s keys and arguments, or None when the call has nothing to write."""
    cmode = imode = ""
    ckey = plan.cache_key
    if ckey is not None:
        if outcome.cache_value is not None:
            cmode += "s"
        if outcome.cache_locked:
            cmode += "u"
    if outcome.idem_claimed and plan.idem_key is not None:
        imode = "f" if outcome.idem_data is not None else "a"
    bkey = plan.breaker_key
    record = outcome.breaker_generation is not None and bkey is not None
    skey = plan.slot_key if outcome.slot_release else None
    if not (cmode or imode or record or skey is not None):
        return None
    keys: list[str] = []
    args: list[Any] = [plan.owner, cmode, imode, "1" if record else "", "1" if skey else ""]
    if cmode:
        assert ckey is not None
        keys += [names.key("c", ckey), names.lock(CACHE_LOCK + ckey)]
        if outcome.cache_value is not None:
            args += [outcome.cache_value, ms(plan.cache_ttl)]
    if imode:
        assert plan.idem_key is not None
        keys.append(names.key("id", plan.idem_key))
        if outcome.idem_data is not None:
            args += [outcome.idem_data, ms(plan.idem_ttl)]
    if skey is not None:
        keys += names.slots(skey)
        args += [plan.slot_holder, names.wake(skey)]
    if record:
        assert bkey is not None
        keys += [names.key("br", bkey), names.key("brw", bkey)]
        args += record_args(plan, outcome)
    return keys, args


def decode_settle(reply: Any) -> Transition | None:
    """``SETTLE``'s reply: the breaker's ``{old, new}``, or ``{}`` when it recorded none."""
    if not reply:
        return None
    old, new = fields(reply, 2)
    return Transition(old=breaker_state(old), new=breaker_state(new))
