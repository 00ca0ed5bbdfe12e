"""The other process of the slot wake-up tests: it holds ``gate``'s one shared slot.

python runtime_wake_child.py REDIS_URL PREFIX   -> prints one JSON line when its call ended

Its call records ``A-start``, waits until the test pushes onto ``<prefix>go``, records
``A-end`` and returns, which gives the slot back.
"""

from __future__ import annotations

import asyncio
import json
import sys

import redis.asyncio as aioredis

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state.redis import RedisBackend


def make_box(url: str, prefix: str) -> tw.Toolbox:
    # a long lease: no renewal script runs while the tests count the scripts sent
    backend = RedisBackend(url, prefix=prefix, concurrency_lease=120.0)
    client = backend.client

    @tw.tool(policy=tw.Policy(concurrency=1))
    async def gate(who: str) -> str:
        await client.rpush(prefix + "events", f"{who}-start")
        if who == "A":
            blocking = aioredis.from_url(url)  # no socket timeout: it waits for the test
            try:
                await blocking.blpop([prefix + "go"], timeout=60)
            finally:
                await blocking.aclose()
            await client.rpush(prefix + "events", f"{who}-end")
        return who

    return tw.Toolbox([gate], runtime=Executor(backend=backend))


async def main(url: str, prefix: str) -> dict[str, object]:
    box = make_box(url, prefix)
    try:
        res = await box.call("gate", {"who": "A"})
        return {"ok": res.ok, "value": res.value}
    finally:
        await box.runtime.aclose()
        await box.runtime.backend.aclose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))), flush=True)
