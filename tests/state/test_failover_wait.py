"""``RedisCalls``' failover wait: an operation that finds a node gone tries again for up to
``failover_wait`` while the store was up; once it counts as down, the probe after
``retry_interval`` is one try (an outage that outlived one wait is not waited out again by
every call)."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from toolwire.state import BackendUnavailable
from toolwire.state._redis_client import RedisCalls

pytestmark = pytest.mark.anyio


async def test_a_wait_while_up_then_single_probes_while_down() -> None:
    calls = RedisCalls(retry_interval=0.0, pool_timeout=1.0, failover_wait=0.3)
    tries = 0

    async def gone() -> None:
        nonlocal tries
        tries += 1
        raise RedisConnectionError("Error 111 connecting")

    with pytest.raises(BackendUnavailable):
        await calls.call(gone)
    assert tries > 2  # tried again while it waited for a failover
    assert calls.down_since is not None
    tries = 0
    with pytest.raises(BackendUnavailable):
        await calls.call(gone)
    assert tries == 1  # down already: one probe, no wait

    async def back() -> str:
        return "ok"

    assert await calls.call(back) == "ok"
    assert calls.down_since is None


async def test_no_wait_on_a_single_node() -> None:
    calls = RedisCalls(retry_interval=0.0, pool_timeout=1.0)  # failover_wait 0
    tries = 0

    async def gone() -> None:
        nonlocal tries
        tries += 1
        raise RedisConnectionError("Error 111 connecting")

    with pytest.raises(BackendUnavailable):
        await calls.call(gone)
    assert tries == 2  # the one retry on a fresh connection, as before
