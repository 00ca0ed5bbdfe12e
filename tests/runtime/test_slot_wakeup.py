"""A caller waiting for a shared concurrency slot is woken when the slot is given back,
across processes, instead of polling the store (issue #19).

Process A (a child) holds ``gate``'s one slot; this process (B) queues for it. The events
recorded in Redis show B ran only after A ended, and the scripts counted on a private
``redis-server`` while B waits show it asks about once per ``SLOT_RECHECK``, not every few
milliseconds as the polling waiter did. The in-memory stores hand a slot over by notifying
the waiter too.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import runtime_wake_child
from runtime_fixtures import RedisServer, private_redis_fixture  # noqa: F401

from toolwire.runtime._limits import Limiter
from toolwire.state import MemoryBackend
from toolwire.state._base import SLOT_RECHECK

pytestmark = pytest.mark.anyio
CHILD = Path(runtime_wake_child.__file__)


async def _until(check: Any, what: str, limit: float = 30.0) -> None:
    """Poll the test's own condition; the limit only guards against a hang."""
    give_up = time.monotonic() + limit
    while not await check():
        assert time.monotonic() < give_up, f"{what} did not happen"
        await asyncio.sleep(0.01)


def _scripts_run(info: dict[str, Any]) -> int:
    return sum(int(info.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("evalsha", "eval"))


async def test_waiter_in_another_process_is_woken_when_the_slot_frees(
    private_redis: RedisServer,
) -> None:
    url, prefix = private_redis.url, f"wake:{uuid.uuid4().hex[:8]}:"
    box = runtime_wake_child.make_box(url, prefix)
    backend: Any = box.runtime.backend
    client = backend.client
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), url, prefix, stdout=asyncio.subprocess.PIPE
    )
    try:

        async def a_holds() -> bool:
            return await client.lrange(prefix + "events", 0, -1) == [b"A-start"]

        await _until(a_holds, "A holding the slot")
        b = asyncio.create_task(box.call("gate", {"who": "B"}))

        async def b_queued() -> bool:
            return int(await client.zcard(backend._k("semq", "gate"))) == 1

        await _until(b_queued, "B queued")
        before = _scripts_run(await client.info("commandstats"))
        started = time.monotonic()
        await asyncio.sleep(3 * SLOT_RECHECK)  # B waits this long, at least
        asks = _scripts_run(await client.info("commandstats")) - before
        waited = time.monotonic() - started
        assert not b.done()
        print(f"\nslot waiter: {asks} scripts run in a {waited:.2f} s wait")
        # a bounded re-check per SLOT_RECHECK (plus the count's own slack), where the
        # polling waiter asked every 5-50 ms (over 60 times in this wait)
        assert asks <= waited / SLOT_RECHECK + 2, (asks, waited)

        await client.rpush(prefix + "go", "1")  # A ends its call and gives the slot back
        res = await asyncio.wait_for(b, 30)
        out, _ = await asyncio.wait_for(child.communicate(), 30)
        assert json.loads(out.decode().splitlines()[-1]) == {"ok": True, "value": "A"}
        assert res.ok and res.value == "B", res
        events = await client.lrange(prefix + "events", 0, -1)
        assert events == [b"A-start", b"A-end", b"B-start"]
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await box.runtime.aclose()
        await backend.aclose()


async def test_release_pushes_a_wake_up_to_the_first_waiters_process(
    private_redis: RedisServer,
) -> None:
    """The wake-up itself: giving the slot back pushes the first waiter's name onto its
    process's wake list; a waiter asking again without a free slot pushes nothing."""
    from toolwire.state.redis import RedisBackend

    backend = RedisBackend(private_redis.url, prefix="wk:")
    try:
        assert await backend.slot_acquire("t", "p1:0", 1, None) == "held"
        assert await backend.slot_acquire("t", "p2:0", 1, None) == "queued"
        assert await backend.slot_acquire("t", "p3:0", 1, None) == "queued"
        assert await backend.slot_acquire("t", "p2:0", 1, None) == "queued"
        wake = backend.names.wake("t")
        assert await backend.client.lrange(wake + "p2", 0, -1) == []
        await backend.slot_release("t", "p1:0")
        assert await backend.client.lrange(wake + "p2", 0, -1) == [b"p2:0"]
        assert await backend.client.lrange(wake + "p3", 0, -1) == []
        watch = backend.slot_watch("t", "p2:0")
        try:  # the listener pops it and wakes the watch (the bound only guards a hang)
            assert await asyncio.wait_for(watch.wait(3600), 10) is True
        finally:
            watch.close()
        assert await backend.slot_acquire("t", "p2:0", 1, None) == "held"
    finally:
        await backend.aclose()


async def test_memory_store_wakes_the_first_waiter_on_release() -> None:
    backend = MemoryBackend()
    assert await backend.slot_acquire("t", "a", 1, None) == "held"
    assert await backend.slot_acquire("t", "b", 1, None) == "queued"
    assert await backend.slot_acquire("t", "c", 1, None) == "queued"
    woken_b, woken_c = backend.slot_watch("t", "b"), backend.slot_watch("t", "c")
    waiting = asyncio.create_task(woken_b.wait(3600))
    other = asyncio.create_task(woken_c.wait(3600))
    await asyncio.sleep(0)
    await backend.slot_release("t", "a")
    assert await asyncio.wait_for(waiting, 10) is True
    assert not other.done()  # not its turn: it was not woken
    assert await backend.slot_acquire("t", "b", 1, None) == "held"
    other.cancel()
    woken_b.close()
    woken_c.close()


async def test_in_process_limiter_hands_the_slot_to_the_waiter_without_a_timer() -> None:
    limiter = Limiter(1)
    await limiter.acquire(None)
    waiter = asyncio.create_task(limiter.acquire(None))
    await asyncio.sleep(0)  # the waiter runs up to its future
    assert limiter.waiting == 1
    loop = asyncio.get_running_loop()
    assert not loop._scheduled  # type: ignore[attr-defined]  # nothing waits on a timer
    limiter.release()
    await asyncio.sleep(0)
    assert waiter.done() and limiter.free == 0  # handed over on release
