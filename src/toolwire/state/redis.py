"""Redis state: several processes or replicas share breakers, rate limits, cache, idempotency.

Every read-then-write is one Lua script (one round trip, atomic on the server), and time comes
from the server's ``TIME`` so processes with different clocks agree. redis-py is imported
when the backend is created, never at module import of the core.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from toolwire._errors import MissingExtra
from toolwire.state._base import (
    Admission,
    BackendUnavailable,
    BreakerConfig,
    BreakerState,
    IdemRecord,
    Outcome,
    RateDecision,
    StateBackend,
    Transition,
)

log = logging.getLogger("toolwire.state")

_NOW = "local _t = redis.call('TIME') local now = tonumber(_t[1]) + tonumber(_t[2]) / 1000000\n"

# KEYS: breaker hash. ARGV: open_for, half_open_calls.
# Returns {allowed, state, generation, retry_after or -1}. Mirrors BreakerCore.acquire.
_ACQUIRE = (
    _NOW
    + """
local h = KEYS[1]
local open_for = tonumber(ARGV[1])
local n_trials = tonumber(ARGV[2])
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
"""
)

# KEYS: breaker hash, window key. ARGV: generation, outcome (success|failure|ignore), slow,
# window, window_type, min_calls, failure_rate, slow_call_rate, half_open_calls.
# Returns {old, new}. Mirrors BreakerCore.record.
_RECORD = (
    _NOW
    + """
local h, wk = KEYS[1], KEYS[2]
local gen = tonumber(ARGV[1])
local outcome = ARGV[2]
local slow = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local wtype = ARGV[5]
local min_calls = tonumber(ARGV[6])
local frate = tonumber(ARGV[7])
local srate = tonumber(ARGV[8])
local n_trials = tonumber(ARGV[9])
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
"""
)

_FORCE = """
local h, wk = KEYS[1], KEYS[2]
local gen = tonumber(redis.call('HGET', h, 'gen') or '0') + 1
redis.call('DEL', wk)
redis.call('HSET', h, 'st', ARGV[1], 'gen', gen, 'wn', 0, 'wf', 0, 'ws', 0, 'oa', '0')
return gen
"""

# KEYS: tat key. ARGV: interval, limit, max_wait. Returns {allowed, wait}. GCRA.
_RATE = (
    _NOW
    + """
local interval, limit, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - limit - now
if wait > max_wait then return {0, tostring(wait)} end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
if wait < 0 then wait = 0 end
return {1, tostring(wait)}
"""
)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: cache key, lock key. ARGV: owner, lock ttl ms. Returns {1, value} or {0, locked}.
_GET_OR_LOCK = """
local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, 1} end
return {0, 0}
"""

# KEYS: cache key, lock key. ARGV: value, ttl ms, owner.
_SET_UNLOCK = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""

_IDEM_BEGIN = """
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return {'new'}
end
if string.sub(v, 1, 2) == 'p:' then return {'pending'} end
return {'done', string.sub(v, 3)}
"""


class RedisBackend(StateBackend):
    """Shared state in Redis. Give a URL or an existing ``redis.asyncio.Redis`` client.

    While Redis is unreachable every operation raises :class:`BackendUnavailable` at once
    (without a network attempt for ``retry_interval`` seconds); one warning is logged per
    outage and one info line when it is back.

    Example::

        backend = RedisBackend("redis://127.0.0.1:6379/0", prefix="myapp:")
        executor = Executor(backend=backend)
    """

    shared = True

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "toolwire:",
        connect_timeout: float = 0.5,
        timeout: float = 2.0,
        retry_interval: float = 0.5,
    ) -> None:
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError
            from redis.exceptions import RedisError
            from redis.exceptions import TimeoutError as RedisTimeoutError
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingExtra("redis", "redis") from exc
        if client is None:
            if url is None:
                raise ValueError("RedisBackend needs a url or a client")
            # no hidden retries: an outage must surface at once so policies can fail open/closed
            client = aioredis.Redis.from_url(
                url,
                socket_connect_timeout=connect_timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        self.client = client
        self.prefix = prefix
        self._retry_interval = retry_interval
        self._outage: tuple[type[BaseException], ...] = (
            RedisConnectionError,
            RedisTimeoutError,
            OSError,
        )
        self._errors: tuple[type[BaseException], ...] = (RedisError,)
        self._down_since: float | None = None
        self._next_try = 0.0
        self._acquire = client.register_script(_ACQUIRE)
        self._record = client.register_script(_RECORD)
        self._force = client.register_script(_FORCE)
        self._rate = client.register_script(_RATE)
        self._release = client.register_script(_RELEASE)
        self._idem = client.register_script(_IDEM_BEGIN)
        self._get_or_lock = client.register_script(_GET_OR_LOCK)
        self._set_unlock = client.register_script(_SET_UNLOCK)

    # -- outage handling ----------------------------------------------------------------
    @property
    def available(self) -> bool:
        return self._down_since is None

    async def _call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        if self._down_since is not None and time.monotonic() < self._next_try:
            raise BackendUnavailable("Redis is unreachable")
        try:
            out = await func(*args, **kwargs)
        except self._outage as exc:
            self._mark_down(exc)
            raise BackendUnavailable(f"Redis is unreachable: {exc}") from exc
        except self._errors as exc:
            # reachable but refusing (misconfiguration, OOM, a script error): not an outage
            log.error("Redis state backend error: %s: %s", type(exc).__name__, exc)
            raise BackendUnavailable(f"Redis answered with an error: {exc}") from exc
        if self._down_since is not None:
            log.info(
                "Redis state backend is reachable again after %.1f s; shared policies resumed",
                time.monotonic() - self._down_since,
            )
            self._down_since = None
        return out

    def _mark_down(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._next_try = now + self._retry_interval
        if self._down_since is None:
            self._down_since = now
            log.warning(
                "Redis state backend unreachable (%s: %s); policies fail open or closed as "
                "configured until it is back",
                type(exc).__name__,
                exc,
            )

    async def _script(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self._call(script, keys=list(keys), args=list(args))

    def _k(self, kind: str, key: str) -> str:
        return f"{self.prefix}{kind}:{key}"

    # -- breaker ------------------------------------------------------------------------
    async def breaker_acquire(self, key: str, config: BreakerConfig) -> Admission:
        allowed, state, gen, retry = await self._script(
            self._acquire, [self._k("br", key)], [config.open_for, config.half_open_calls]
        )
        retry_after = float(retry)
        return Admission(
            allowed=bool(allowed),
            state=_text(state),  # type: ignore[arg-type]
            generation=int(gen),
            retry_after=None if retry_after < 0 else retry_after,
        )

    async def breaker_record(
        self, key: str, config: BreakerConfig, generation: int, outcome: Outcome, slow: bool
    ) -> Transition:
        old, new = await self._script(
            self._record,
            [self._k("br", key), self._k("brw", key)],
            [
                generation,
                outcome,
                int(slow),
                config.window,
                config.window_type,
                config.min_calls,
                repr(config.failure_rate),
                repr(config.slow_call_rate),
                config.half_open_calls,
            ],
        )
        return Transition(old=_text(old), new=_text(new))  # type: ignore[arg-type]

    async def breaker_state(self, key: str) -> BreakerState:
        state = await self._call(self.client.hget, self._k("br", key), "st")
        return _text(state) if state else "closed"  # type: ignore[return-value]

    async def breaker_force(self, key: str, state: BreakerState | None) -> None:
        await self._script(
            self._force, [self._k("br", key), self._k("brw", key)], [state or "closed"]
        )

    # -- rate limit ---------------------------------------------------------------------
    async def rate_acquire(
        self, key: str, rate: float, per: float, max_wait: float
    ) -> RateDecision:
        interval = per / rate
        allowed, wait = await self._script(
            self._rate, [self._k("rl", key)], [repr(interval), repr(max(per, interval)), max_wait]
        )
        if allowed:
            return RateDecision(allowed=True, wait=float(wait))
        return RateDecision(allowed=False, retry_after=float(wait))

    # -- cache --------------------------------------------------------------------------
    async def cache_get(self, key: str) -> bytes | None:
        value = await self._call(self.client.get, self._k("c", key))
        return bytes(value) if value is not None else None

    async def cache_set(self, key: str, value: bytes, ttl: float, max_entries: int) -> None:
        # Redis bounds memory with its own eviction policy; max_entries applies in memory only
        await self._call(self.client.set, self._k("c", key), value, px=max(1, int(ttl * 1000)))

    async def cache_delete(self, key: str) -> int:
        if not key.endswith("*"):
            return int(await self._call(self.client.delete, self._k("c", key)))
        deleted = 0
        match = self._k("c", key[:-1]).replace("[", "\\[").replace("?", "\\?") + "*"
        cursor: int = 0
        while True:
            cursor, keys = await self._call(self.client.scan, cursor, match=match, count=500)
            if keys:
                deleted += int(await self._call(self.client.delete, *keys))
            if not cursor:
                return deleted

    async def cache_get_or_lock(
        self, key: str, owner: str, ttl: float
    ) -> tuple[bytes | None, bool]:
        found, value = await self._script(
            self._get_or_lock,
            [self._k("c", key), self._k("lk", "c:" + key)],
            [owner, max(1, int(ttl * 1000))],
        )
        if found:
            return bytes(value), False
        return None, bool(value)

    async def cache_set_unlock(
        self, key: str, value: bytes, ttl: float, max_entries: int, owner: str
    ) -> None:
        await self._script(
            self._set_unlock,
            [self._k("c", key), self._k("lk", "c:" + key)],
            [value, max(1, int(ttl * 1000)), owner],
        )

    # -- locks --------------------------------------------------------------------------
    async def lock_acquire(self, key: str, owner: str, ttl: float) -> bool:
        got = await self._call(
            self.client.set, self._k("lk", key), owner, nx=True, px=max(1, int(ttl * 1000))
        )
        return bool(got)

    async def lock_release(self, key: str, owner: str) -> None:
        await self._script(self._release, [self._k("lk", key)], [owner])

    # -- idempotency --------------------------------------------------------------------
    async def idem_begin(self, key: str, owner: str, ttl: float) -> IdemRecord:
        out = await self._script(self._idem, [self._k("id", key)], [owner, max(1, int(ttl * 1000))])
        status = _text(out[0])
        if status == "done":
            return IdemRecord(status="done", data=bytes(out[1]))
        return IdemRecord(status=status)  # type: ignore[arg-type]

    async def idem_finish(self, key: str, owner: str, data: bytes, ttl: float) -> None:
        await self._call(
            self.client.set, self._k("id", key), b"d:" + data, px=max(1, int(ttl * 1000))
        )

    async def idem_abandon(self, key: str, owner: str) -> None:
        await self._script(self._release, [self._k("id", key)], ["p:" + owner])

    async def aclose(self) -> None:
        await self.client.aclose()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
