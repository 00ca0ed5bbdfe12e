"""Load through ``toolwire serve`` REST: every call answered, right answer, no 5xx, flat memory.

Quick mode: 3,000 calls at concurrency 64; ``--full``: 100,000. Figures (p50/p99, calls/s,
RSS) go to ``test-output/reliability/load.json`` for RELIABILITY.md; only correctness and the
memory bound are asserted, never a timing.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from reliability_helpers import pick
from reliability_serve import rss_mb, start_serve, stop

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
CONCURRENCY = 64


async def _load(base: str, total: int, pid: int) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    wrong: list[str] = []
    failures: list[str] = []
    latencies: list[float] = []
    rss: dict[str, float] = {}
    warm = total // 10
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    done = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            city = f"城市{i}"
            start = time.perf_counter()
            try:
                async with session.post("/v1/tools/get_weather/call", json={"location": city}) as r:
                    body = await r.json()
                    statuses[r.status] += 1
                    if r.status == 200 and body.get("value", {}).get("location") != city:
                        wrong.append(f"{city}: {str(body)[:100]}")
            except (aiohttp.ClientError, ValueError) as exc:
                failures.append(f"{city}: {exc!r}")
            latencies.append(time.perf_counter() - start)
            done += 1
            if done == warm:
                rss["after_warmup_mb"] = rss_mb(pid)

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    began = time.perf_counter()
    async with aiohttp.ClientSession(base_url=base, connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - began
    rss["end_mb"] = rss_mb(pid)
    latencies.sort()
    return {
        "calls": total,
        "concurrency": CONCURRENCY,
        "answered": sum(statuses.values()),
        "statuses": dict(statuses),
        "wrong_answers": wrong[:10],
        "client_failures": failures[:10],
        "calls_per_s": total / elapsed,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1e3,
        "rss": rss,
    }


@pytest.mark.slow
async def test_rest_load_loses_nothing(tmp_path: Path) -> None:
    total = pick(3_000, 100_000)
    served = start_serve(tmp_path / "serve", '[server]\nlog_level = "error"\n')
    try:
        figures = await _load(served.base, total, served.proc.pid)
    finally:
        stop(served.proc)
    out = ROOT / "test-output" / "reliability"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    print("\nREST load:", json.dumps(figures, ensure_ascii=False))
    assert figures["client_failures"] == []
    assert figures["answered"] == total  # zero lost
    assert figures["statuses"] == {200: total}  # zero 5xx (and zero anything else)
    assert figures["wrong_answers"] == []  # no answer crossed over to another call
    growth = figures["rss"]["end_mb"] - figures["rss"]["after_warmup_mb"]
    assert growth < 50, f"server RSS grew {growth:.0f} MB after warm-up"
