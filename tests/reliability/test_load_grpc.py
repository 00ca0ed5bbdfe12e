"""Load through ``toolwire serve``'s gRPC port: concurrent unary ``CallTool`` calls, one
``CallTools`` stream carrying many calls, and many concurrent ``CallTools`` streams.

Quick mode: 100 of each; ``--full``: 1,000. Every call must come back once, ok, with its own
answer; p50/p99 are printed and written to ``test-output/reliability/grpc_load.json``,
never asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import pick
from reliability_serve import HERE, child_env, free_port, stop, wait_port

from toolwire._calls import ToolResult

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
DELAY = 0.05  # each call waits a little in the handler, so they really are in flight together


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _check(results: list[ToolResult], expected: list[int]) -> None:
    assert len(results) == len(expected)
    failed = [r for r in results if not r.ok]
    assert failed == [], failed[:3]
    assert [r.value["i"] if isinstance(r.value, dict) else None for r in results] == expected
    assert all(
        isinstance(r.value, dict) and r.value["square"] == r.value["i"] ** 2 for r in results
    )


async def test_grpc_concurrent_unary_and_streams(tmp_path: Path) -> None:
    from toolwire.serve.grpc_client import GrpcToolClient

    n = pick(100, 1000)
    port, grpc_port = free_port(), free_port()
    (tmp_path / "toolwire.toml").write_text('[server]\nlog_level = "error"\n')
    cmd = [sys.executable, "-m", "toolwire", "serve", "--config", str(tmp_path / "toolwire.toml")]
    cmd += ["--tools", str(HERE / "reliability_replica_tools.py"), "--port", str(port)]
    cmd += ["--grpc-port", str(grpc_port)]
    env = child_env(REL_LOG=os.devnull)
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)  # noqa: ASYNC220 - setup
    figures: dict[str, Any] = {"calls": n}
    try:
        wait_port(grpc_port, proc)
        async with GrpcToolClient(f"127.0.0.1:{grpc_port}") as client:
            assert (await client.call("echo", {"i": -1})).ok  # connected and warm

            # n unary calls at once
            latencies: list[float] = []

            async def unary(i: int) -> ToolResult:
                t0 = time.perf_counter()
                result = await client.call("echo", {"i": i, "delay": DELAY}, timeout=60)
                latencies.append(time.perf_counter() - t0)
                return result

            t0 = time.perf_counter()
            results = await asyncio.gather(*(unary(i) for i in range(n)))
            wall = time.perf_counter() - t0
            _check(list(results), list(range(n)))
            figures["unary"] = {
                "wall_s": round(wall, 3),
                "p50_ms": round(_pct(latencies, 0.5), 1),
                "p99_ms": round(_pct(latencies, 0.99), 1),
            }

            # one CallTools stream carrying n calls (answered in completion order)
            t0 = time.perf_counter()
            arrivals: list[float] = []
            streamed: list[ToolResult] = []
            calls = [("echo", {"i": i, "delay": DELAY}) for i in range(n)]
            async for result in client.call_many(calls):
                arrivals.append(time.perf_counter() - t0)
                streamed.append(result)
            by_id = {r.call_id: r for r in streamed}
            assert len(by_id) == n, "a call came back twice or not at all"
            _check([by_id[f"c{i}"] for i in range(n)], list(range(n)))
            figures["one_stream"] = {
                "wall_s": round(arrivals[-1], 3),
                "p99_arrival_ms": round(_pct(arrivals, 0.99), 1),
            }

            # n concurrent CallTools streams, 2 calls each
            stream_times: list[float] = []

            async def stream(s: int) -> list[ToolResult]:
                t1 = time.perf_counter()
                pair = [("echo", {"i": 2 * s, "delay": DELAY}), ("echo", {"i": 2 * s + 1})]
                got = [r async for r in client.call_many(pair)]
                stream_times.append(time.perf_counter() - t1)
                return sorted(got, key=lambda r: r.call_id)

            t0 = time.perf_counter()
            per_stream = await asyncio.gather(*(stream(s) for s in range(n)))
            wall = time.perf_counter() - t0
            _check([r for pair in per_stream for r in pair], list(range(2 * n)))
            figures["streams"] = {
                "streams": n,
                "wall_s": round(wall, 3),
                "p50_ms": round(_pct(stream_times, 0.5), 1),
                "p99_ms": round(_pct(stream_times, 0.99), 1),
            }
        assert proc.poll() is None, "the server died under load"
    finally:
        stop(proc)
    out = ROOT / "test-output" / "reliability"
    out.mkdir(parents=True, exist_ok=True)
    (out / "grpc_load.json").write_text(json.dumps(figures, indent=2))
    print(f"\ngrpc load: {figures}")
