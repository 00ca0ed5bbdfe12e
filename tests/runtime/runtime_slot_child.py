"""Tools of the shared concurrency tests; run as a script it is the other process.

python runtime_slot_child.py REDIS_URL PREFIX LEASE SCENARIO   -> prints one JSON line
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state.redis import RedisBackend

# KEYS: the highest value seen. ARGV: a value. Keeps the maximum (atomic on the server).
KEEP_MAX = """
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
"""


def make_box(url: str, prefix: str, lease: float = 15.0) -> tw.Toolbox:
    backend = RedisBackend(url, prefix=prefix, concurrency_lease=lease)
    client = backend.client

    @tw.tool(policy=tw.Policy(concurrency=2))
    async def guarded(hold: float) -> int:
        # how many calls run right now, in every process: counted in Redis
        now = int(await client.incr(prefix + "cur"))
        await client.incr(prefix + "started")
        await client.eval(KEEP_MAX, 1, prefix + "max", now)
        try:
            await asyncio.sleep(hold)
        finally:
            await client.decr(prefix + "cur")
        return now

    # callers never wait for its one slot: a taken slot is refused at once
    @tw.tool(policy=tw.Policy(concurrency=1, max_queue=0))
    async def stuck(block: bool) -> str:
        if block:
            await client.incr(prefix + "stuck-in")
            await asyncio.sleep(3600)
        return "ran"

    return tw.Toolbox([guarded, stuck], runtime=Executor(backend=backend))


async def main(url: str, prefix: str, lease: float, scenario: str) -> dict[str, Any]:
    box = make_box(url, prefix, lease)
    try:
        if scenario == "burst":
            calls = [
                tw.ToolCall(id=str(i), name="guarded", arguments='{"hold": 0.1}') for i in range(6)
            ]
            results = await box.run(calls)
            return {"ok": sum(r.ok for r in results)}
        await box.call("stuck", {"block": True})  # killed while it runs
        return {}
    finally:
        await box.runtime.aclose()  # its after-call writes reach Redis before the exit
        await box.runtime.backend.aclose()


if __name__ == "__main__":
    out = asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
    print(json.dumps(out))
