"""Each Lua script of the Redis backend run on a real server, its reply read by its decoder.

The reply layouts are written beside the scripts (``state._lua``); these round trips pin
that each decoder reads what its script sends, and that nonsense is a ``BackendUnavailable``
(a store answering garbage is unusable), never a wrong decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from private_redis import RedisServer, private_redis_fixture  # noqa: F401

from toolwire.state import (
    Admission,
    BackendUnavailable,
    BreakerConfig,
    CallPlan,
    Clearance,
    IdemRecord,
    RateDecision,
    Settlement,
    Transition,
)
from toolwire.state._lua import SCRIPTS
from toolwire.state._lua.breaker import decode_acquire, decode_record
from toolwire.state._lua.call import (
    admit_request,
    decode_admit,
    decode_settle,
    settle_request,
)
from toolwire.state._lua.rate import decode_rate
from toolwire.state._lua.slots import decode_slot_acquire, decode_slot_renew
from toolwire.state._lua.store import decode_get_or_lock, decode_idem_begin

pytestmark = pytest.mark.anyio

CFG = BreakerConfig(window=2, min_calls=2, failure_rate=0.5, open_for=30.0)


@pytest.fixture(name="redis")
async def redis_fixture(private_redis: RedisServer) -> AsyncIterator[Any]:
    from toolwire.state.redis import RedisBackend

    backend = RedisBackend(private_redis.url, prefix="t:")
    try:
        yield backend
    finally:
        async with asyncio.timeout(10):
            await backend.aclose()


async def run(backend: Any, name: str, keys: list[str], args: list[Any]) -> Any:
    return await backend._scripts.run(name, keys, args)


async def test_breaker_scripts_round_trip(redis: Any) -> None:
    br, brw = redis._k("br", "t"), redis._k("brw", "t")
    adm = decode_acquire(await run(redis, "acquire", [br], [30.0, 1]))
    assert adm == Admission(allowed=True, state="closed", generation=0)
    record = ["0", "failure", "0", "2", "count", "2", "0.5", "1.0", "1"]
    assert decode_record(await run(redis, "record", [br, brw], record)) == Transition(
        old="closed", new="closed"
    )
    opened = decode_record(await run(redis, "record", [br, brw], record))
    assert opened == Transition(old="closed", new="open")
    refused = decode_acquire(await run(redis, "acquire", [br], [30.0, 1]))
    assert (refused.allowed, refused.state, refused.generation) == (False, "open", 1)
    assert refused.retry_after is not None and 0 < refused.retry_after <= 30.0


async def test_rate_script_round_trip(redis: Any) -> None:
    rl = redis._k("rl", "t")
    # 1 per 10 s (microseconds): the first is free, the second waits 10 s (max_wait 20 s)
    ten_s = "10000000"
    assert decode_rate(await run(redis, "rate", [rl], [ten_s, ten_s, "0"])) == RateDecision(
        allowed=True, wait=0.0
    )
    waited = decode_rate(await run(redis, "rate", [rl], [ten_s, ten_s, "20000000"]))
    assert waited.allowed and 9.0 < waited.wait <= 10.0
    refused = decode_rate(await run(redis, "rate", [rl], [ten_s, ten_s, "0"]))
    assert not refused.allowed and refused.retry_after is not None and refused.retry_after > 10


async def test_cache_and_idempotency_scripts_round_trip(redis: Any) -> None:
    c, lk = redis._k("c", "t:k"), redis.names.lock("c:t:k")
    assert decode_get_or_lock(await run(redis, "get_or_lock", [c, lk], ["me", 5000])) == (
        None,
        True,
    )
    assert decode_get_or_lock(await run(redis, "get_or_lock", [c, lk], ["you", 5000])) == (
        None,
        False,
    )
    await run(redis, "set_unlock", [c, lk], [b"42", 5000, "me"])
    assert decode_get_or_lock(await run(redis, "get_or_lock", [c, lk], ["you", 5000])) == (
        b"42",
        False,
    )
    rec = redis._k("id", "t:i")
    assert decode_idem_begin(await run(redis, "idem_begin", [rec], ["me", 5000])) == IdemRecord(
        status="new"
    )
    assert decode_idem_begin(await run(redis, "idem_begin", [rec], ["you", 5000])) == IdemRecord(
        status="pending"
    )
    await run(redis, "idem_finish", [rec], ["p:me", b"d:result", 5000])
    assert decode_idem_begin(await run(redis, "idem_begin", [rec], ["you", 5000])) == IdemRecord(
        status="done", data=b"result"
    )


async def test_slot_scripts_round_trip(redis: Any) -> None:
    keys = redis.names.slots("t")
    take = [1, -1, 60_000, 2_000]
    assert decode_slot_acquire(await run(redis, "slot_acquire", keys, ["a", *take])) == "held"
    assert decode_slot_acquire(await run(redis, "slot_acquire", keys, ["b", *take])) == "queued"
    assert decode_slot_renew(await run(redis, "slot_renew", [keys[0]], [60_000, "a", "x"])) == ["x"]
    await run(redis, "slot_release", keys, ["a"])
    assert decode_slot_acquire(await run(redis, "slot_acquire", keys, ["b", *take])) == "held"


async def test_admit_and_settle_round_trip(redis: Any) -> None:
    plan = CallPlan(
        owner="me",
        lease=30.0,
        cache_key="t:k",
        idem_key="t:i",
        rate_key="t",
        rate=1e9,
        breaker_key="t",
        breaker=CFG,
        slot_key="t",
        slot_holder="me:1",
        slot_limit=2,
    )
    clr = decode_admit(await run(redis, "admit", *admit_request(plan, redis.names, 15.0)))
    assert (clr.stop, clr.cache_locked, clr.idem_claimed, clr.wait, clr.slot) == (
        None,
        True,
        True,
        0.0,
        "held",
    )
    assert clr.breaker == Admission(allowed=True, state="closed", generation=0)
    done = Settlement(
        cache_locked=True,
        cache_value=b'"K"',
        idem_claimed=True,
        idem_data=b"a:tag:{}",
        breaker_generation=0,
        outcome="success",
        slot_release=True,
    )
    request = settle_request(plan, done, redis.names)
    assert request is not None
    assert decode_settle(await run(redis, "settle", *request)) == Transition(
        old="closed", new="closed"
    )
    hit = decode_admit(await run(redis, "admit", *admit_request(plan, redis.names, 15.0)))
    assert hit == Clearance(stop="cache_hit", data=b'"K"')
    # nothing to write: no script at all
    assert settle_request(plan, Settlement(), redis.names) is None
    assert decode_settle([]) is None


def test_every_script_is_loaded_together() -> None:
    assert set(SCRIPTS) == {
        "acquire", "record", "force", "rate", "release", "get_or_lock", "set_unlock",
        "idem_begin", "idem_finish", "slot_acquire", "slot_release", "slot_renew", "admit",
        "settle", "budget",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("decode", "reply"),
    [
        (decode_acquire, [1, b"sideways", 0, b"-1"]),
        (decode_acquire, b"not a list"),
        (decode_record, [b"closed", b"ajar"]),
        (decode_admit, [b"maybe", b""]),
        (decode_admit, [b"", b"", 0, 0, b"0", 1, b"closed", 0, b"-1", b"lots"]),
        (decode_idem_begin, [b"later"]),
        (decode_slot_acquire, b"hovering"),
        (decode_rate, [1, b"0", b"extra"]),
    ],
)
def test_nonsense_replies_are_an_unusable_store(decode: Any, reply: Any) -> None:
    with pytest.raises(BackendUnavailable):
        decode(reply)
