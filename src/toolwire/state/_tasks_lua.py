"""The Lua scripts of the Redis task store, each with the decoder of its reply beside it.

Every key of the task store carries the one hash tag ``{tasks}`` (see ``_tasks_redis``), so
each script touches a single slot and runs unchanged on Redis Cluster. Times are integer
milliseconds from the server's ``TIME``. A record is a hash with these fields:

    tool owner scopes args digest rep status created updated ttl runs lease qid
    [idem] [deadline] [progress] [result] [expires] [runner]

``qid`` is the task's entry in the queue stream (consumer group ``workers``); ``lease`` the
time the runner's lease ends, ``runner`` who holds it ("" or absent: nobody).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

GROUP = "workers"
# events kept per task (approximately: XADD MAXLEN ~); the end is always the newest
MAX_EVENTS = 1000

_NOW = "local _t = redis.call('TIME') local now = tonumber(_t[1]) * 1000 + math.floor(tonumber(_t[2]) / 1000)\n"  # noqa: E501

# KEYS: record, queue, owner index, owner's working set, [idempotency key]
# ARGV: id, tool, owner, scopes, args, digest, idem key or "", rep, timeout ms or -1, ttl ms,
#       max working or -1, index cap, owner digest
CREATE = (
    _NOW
    + """
if #KEYS >= 5 then
  local known = redis.call('GET', KEYS[5])
  if known then
    local sep = string.find(known, '|', 1, true)
    local tid = string.sub(known, 1, sep - 1)
    if string.sub(known, sep + 1) ~= ARGV[6] then return {'reused', tid} end
    return {'exists', tid}
  end
end
local most = tonumber(ARGV[11])
if most >= 0 then
  local n = redis.call('SCARD', KEYS[4])
  if n >= most then return {'limit', tostring(n)} end
end
local qid = redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'o', ARGV[13])
redis.call('HSET', KEYS[1], 'tool', ARGV[2], 'owner', ARGV[3], 'scopes', ARGV[4],
  'args', ARGV[5], 'digest', ARGV[6], 'rep', ARGV[8], 'status', 'working', 'created', now,
  'updated', now, 'ttl', ARGV[10], 'runs', 0, 'lease', 0, 'qid', qid)
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'idem', ARGV[7]) end
local timeout = tonumber(ARGV[9])
if timeout >= 0 then redis.call('HSET', KEYS[1], 'deadline', now + timeout) end
redis.call('ZADD', KEYS[3], now, ARGV[1])
local cap = tonumber(ARGV[12])
local size = redis.call('ZCARD', KEYS[3])
if size > cap then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, size - cap - 1) end
redis.call('SADD', KEYS[4], ARGV[1])
if #KEYS >= 5 then redis.call('SET', KEYS[5], ARGV[1] .. '|' .. ARGV[6]) end
return {'created', tostring(now)}
"""
)


def decode_create(reply: Sequence[Any]) -> tuple[str, str]:
    """``(verdict, value)``: ``created`` + the creation time (ms), ``exists``/``reused`` +
    the key's earlier task id, ``limit`` + the owner's working count."""
    return _text(reply[0]), _text(reply[1])


# KEYS: record, queue. ARGV: worker, lease ms, queue entry id.
CLAIM = (
    _NOW
    + """
local f = redis.call('HMGET', KEYS[1], 'status', 'runner', 'lease', 'runs', 'qid')
if not f[1] or f[1] ~= 'working' or f[5] ~= ARGV[3] then
  redis.call('XACK', KEYS[2], 'workers', ARGV[3])
  redis.call('XDEL', KEYS[2], ARGV[3])
  return {'skip'}
end
if f[2] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'lease', now + tonumber(ARGV[2]))
  return {'held'}
end
if f[2] and f[2] ~= '' and tonumber(f[3]) > now then return {'held'} end
local runs = tonumber(f[4])
redis.call('HSET', KEYS[1], 'runs', runs + 1, 'runner', ARGV[1], 'lease', now + tonumber(ARGV[2]))
return {'granted', tostring(runs), tostring(now), redis.call('HGETALL', KEYS[1])}
"""
)


def decode_claim(reply: Sequence[Any]) -> tuple[int, int, dict[str, bytes]] | None:
    """``(runs before this claim, now ms, record fields)`` when granted, else None: the entry
    was stale (gone now), another runner holds a live lease, or this worker runs it already
    (its lease is extended instead)."""
    if _text(reply[0]) != "granted":
        return None
    return int(reply[1]), int(reply[2]), fields(reply[3])


# KEYS: queue, record... ARGV: worker, lease ms. Returns one 1/0 per record: still held.
RENEW = (
    _NOW
    + """
local out = {}
for i = 2, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'status', 'runner', 'qid')
  if f[1] == 'working' and f[2] == ARGV[1] then
    redis.call('HSET', KEYS[i], 'lease', now + tonumber(ARGV[2]))
    redis.call('XCLAIM', KEYS[1], 'workers', ARGV[1], 0, f[3], 'JUSTID')
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""
)

# KEYS: record, events. ARGV: worker, progress JSON, max events. Returns 1 (held) or 0.
REPORT = (
    _NOW
    + """
local f = redis.call('HMGET', KEYS[1], 'status', 'runner')
if f[1] ~= 'working' or f[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[2], 'updated', now)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'progress', 'p', ARGV[2])
return 1
"""
)

# KEYS: record, events, queue, owner's working set, [idempotency key]
# ARGV: status, result, task id, max events. Ends a working task (the first ending wins).
END = (
    _NOW
    + """
local f = redis.call('HMGET', KEYS[1], 'status', 'ttl', 'qid')
if not f[1] then return {'gone'} end
if f[1] ~= 'working' then return {'ended', redis.call('HGETALL', KEYS[1])} end
local ttl = tonumber(f[2])
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'result', ARGV[2], 'updated', now,
  'expires', now + ttl, 'runner', '')
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'k', 'end', 's', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('XACK', KEYS[3], 'workers', f[3])
redis.call('XDEL', KEYS[3], f[3])
redis.call('SREM', KEYS[4], ARGV[3])
if #KEYS >= 5 then redis.call('PEXPIRE', KEYS[5], ttl) end
return {'now', redis.call('HGETALL', KEYS[1])}
"""
)


def decode_end(reply: Sequence[Any]) -> dict[str, bytes] | None:
    """The record's fields after the ending (ours or an earlier one); None without a record."""
    if _text(reply[0]) == "gone":
        return None
    return fields(reply[1])


# KEYS: record, queue. ARGV: worker, idle ms to set. Gives a held task back for anyone.
RELEASE = """
local f = redis.call('HMGET', KEYS[1], 'status', 'runner', 'qid')
if f[1] == 'working' and f[2] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'runner', '', 'lease', 0)
  redis.call('XCLAIM', KEYS[2], 'workers', ARGV[1], 0, f[3], 'IDLE', ARGV[2], 'JUSTID')
end
return 1
"""

# KEYS: record, events. Returns {record fields, last event id or ""}.
SNAPSHOT = """
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local id = ''
if last[1] then id = last[1][1] end
return {redis.call('HGETALL', KEYS[1]), id}
"""


def decode_snapshot(reply: Sequence[Any]) -> tuple[dict[str, bytes], str | None]:
    last = _text(reply[1])
    return fields(reply[0]), (last or None)


def fields(flat: Any) -> dict[str, bytes]:
    """A flat ``HGETALL`` reply (name, value, name, value...) as a dict of names to bytes."""
    items = list(flat or ())
    return {_text(items[i]): _bytes(items[i + 1]) for i in range(0, len(items) - 1, 2)}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
