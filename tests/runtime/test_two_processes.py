"""Two OS processes on one Redis share breakers, rate limits and idempotency records."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import runtime_child
from runtime_fixtures import close_backend, redis_prefix_fixture  # noqa: F401

import toolwire as tw

pytestmark = pytest.mark.anyio
CHILD = Path(runtime_child.__file__)


async def start_child(url: str, prefix: str, scenario: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), url, prefix, scenario, stdout=asyncio.subprocess.PIPE
    )


async def child_result(proc: asyncio.subprocess.Process) -> Any:
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    return json.loads(out.decode().strip().splitlines()[-1])


@pytest.fixture
async def box(redis_url: str, redis_prefix: str) -> Any:
    b = runtime_child.make_box(redis_url, redis_prefix)
    try:
        yield b
    finally:
        await close_backend(b.runtime.backend, redis_prefix)  # bounded, keys dropped


async def test_breaker_opened_here_rejects_there(
    box: tw.Toolbox, redis_url: str, redis_prefix: str
) -> None:
    for _ in range(3):
        await box.call("upstream", {"fail": True})
    assert await box.runtime.breaker_state("upstream") == "open"
    got = await child_result(await start_child(redis_url, redis_prefix, "breaker"))
    assert got == {"kind": "circuit_open"}


async def test_rate_limit_holds_across_processes(
    box: tw.Toolbox, redis_url: str, redis_prefix: str
) -> None:
    child = await start_child(redis_url, redis_prefix, "rate")
    mine = await box.run(
        [tw.ToolCall(id=str(i), name="limited", arguments=f'{{"i": {i}}}') for i in range(5)]
    )
    theirs = await child_result(child)
    assert sum(r.ok for r in mine) + theirs["ok"] == 5


async def test_idempotency_key_dedupes_across_processes(
    box: tw.Toolbox, redis_url: str, redis_prefix: str
) -> None:
    child = await start_child(redis_url, redis_prefix, "idem")
    await asyncio.sleep(0.3)  # usually the child is still starting: either order must dedupe
    mine = await box.call("charge", {"amount": 7}, idempotency_key="order-42")
    theirs = await child_result(child)
    runs = int(await box.runtime.backend.client.get(redis_prefix + "charge-runs"))
    assert runs == 1
    assert mine.value == theirs["value"] == {"amount": 7, "runs": 1}
