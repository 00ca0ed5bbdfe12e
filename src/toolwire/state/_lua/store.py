"""The cache's and idempotency records' Lua scripts, and the decoders of their replies.

Keys: a cached value ``c``, the lock of whoever fills it ``lk:c`` (holding the owner's id),
an idempotency record ``id`` (``p:<owner>`` while its call runs, ``d:<result>`` once done).
"""

from __future__ import annotations

from typing import Any

from toolwire.state._base import BackendUnavailable, IdemRecord
from toolwire.state._lua.common import fields, text

# KEYS: a lock or pending record. ARGV: its owner's value. Deletes it if it is still theirs.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: cache key, lock key. ARGV: owner, lock ttl ms. Returns {1, value} or {0, locked}.
# A lock (or, in IDEM_BEGIN, a pending record) already the owner's is its own claim: the
# step ran before, and its reply was lost (a failover, a dropped connection).
GET_OR_LOCK = """
local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
if redis.call('GET', KEYS[2]) == ARGV[1] then return {0, 1} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, 1} end
return {0, 0}
"""


def decode_get_or_lock(reply: Any) -> tuple[bytes | None, bool]:
    """``GET_OR_LOCK``'s reply: ``{1, value}`` (cached) or ``{0, locked}`` (``locked`` 1 when
    this owner now holds the fill lock)."""
    found, value = fields(reply, 2)
    if found:
        return bytes(value), False
    return None, bool(value)


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

# KEYS: record. ARGV: owner, ttl ms. Claims a new key (or keeps the owner's own claim), or
# reports another's claim or the result.
IDEM_BEGIN = """
local v = redis.call('GET', KEYS[1])
if (not v) or v == 'p:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return {'new'}
end
if string.sub(v, 1, 2) == 'p:' then return {'pending'} end
return {'done', string.sub(v, 3)}
"""


def decode_idem_begin(reply: Any) -> IdemRecord:
    """``IDEM_BEGIN``'s reply: ``{'new'}`` (claimed now), ``{'pending'}`` (another call runs
    it) or ``{'done', result}``."""
    status, data = fields(reply, 2)
    status = text(status)
    if status == "done":
        return IdemRecord(status="done", data=bytes(data))
    if status == "new":
        return IdemRecord(status="new")
    if status == "pending":
        return IdemRecord(status="pending")
    raise BackendUnavailable(f"Redis answered an unknown idempotency status {status!r}")
