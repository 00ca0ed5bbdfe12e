"""Tools shared by the two-process Redis tests; run as a script it is the second process.

python runtime_child.py REDIS_URL PREFIX SCENARIO   -> prints one JSON line
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state.redis import RedisBackend


def make_box(url: str, prefix: str) -> tw.Toolbox:
    breaker = tw.Breaker(window=3, min_calls=3, open_for=60)

    @tw.tool(read_only=True, policy=tw.Policy(breaker=breaker))
    async def upstream(fail: bool) -> str:
        if fail:
            raise tw.ToolFailure("remote_error", "down")
        return "reached"

    @tw.tool(read_only=True, policy=tw.Policy(rate_limit=tw.RateLimit(rate=5, per=60)))
    async def limited(i: int) -> int:
        return i

    @tw.tool
    async def charge(amount: int) -> dict[str, Any]:
        # the side effect is visible to both processes: a counter in Redis
        runs = await box.runtime.backend.client.incr(prefix + "charge-runs")
        await asyncio.sleep(1.0)
        return {"amount": amount, "runs": runs}

    box = tw.Toolbox(
        [upstream, limited, charge], runtime=Executor(backend=RedisBackend(url, prefix=prefix))
    )
    return box


async def main(url: str, prefix: str, scenario: str) -> dict[str, Any]:
    box = make_box(url, prefix)
    try:
        if scenario == "breaker":
            res = await box.call("upstream", {"fail": False})
            return {"kind": res.error.kind if res.error else "ok"}
        if scenario == "rate":
            results = await box.run(
                [
                    tw.ToolCall(id=str(i), name="limited", arguments=f'{{"i": {i}}}')
                    for i in range(5)
                ]
            )
            return {"ok": sum(r.ok for r in results)}
        res = await box.call("charge", {"amount": 7}, idempotency_key="order-42")
        return {"value": res.value}
    finally:
        await box.runtime.aclose()  # its after-call writes reach Redis before the exit
        await box.runtime.backend.aclose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:4]))))
