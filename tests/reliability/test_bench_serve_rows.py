"""bench_serve: a contender that fails is that row's error, never the end of the run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_serve  # noqa: E402

pytestmark = pytest.mark.anyio


async def test_a_failing_call_is_the_rounds_error() -> None:
    async def open_call(stack: contextlib.AsyncExitStack) -> Any:
        async def call() -> None:
            raise bench_serve.WireError("wrong answer")

        return call

    out = await bench_serve.run_row(open_call, 20, 4, os.getpid())
    assert out["error"] == "WireError: wrong answer"


async def test_a_stuck_row_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_serve, "ROW_BASE_S", 0.2)
    monkeypatch.setattr(bench_serve, "TEARDOWN_S", 0.2)

    async def open_call(stack: contextlib.AsyncExitStack) -> Any:
        async def call() -> None:
            await asyncio.Event().wait()

        return call

    out = await bench_serve.run_row(open_call, 20, 4, os.getpid())
    assert "error" in out


async def test_sdk_client_whose_server_dies_fails_its_row_only() -> None:
    """The SDK Client's transport task group cancels the task that opened it when a POST
    fails at the HTTP level and re-raises at close: run_row keeps that inside the row."""
    port = bench_serve.free_port()
    peer = subprocess.Popen(  # noqa: ASYNC220 (started before anything is measured)
        [sys.executable, "-c", bench_serve.PEER, str(port), "text"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        bench_serve.wait_port(port, peer)
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        async def open_call(stack: contextlib.AsyncExitStack) -> Any:
            pool = await stack.enter_async_context(httpx2.AsyncClient(timeout=5))
            transport = streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=pool)
            call = bench_serve.sdk_call(await stack.enter_async_context(Client(transport)))

            async def then_kill() -> None:
                await call()
                if peer.poll() is None:
                    peer.kill()
                    peer.wait(timeout=10)

            return then_kill

        out = await bench_serve.run_row(open_call, 100, 1, os.getpid())
        assert "error" in out
        await asyncio.sleep(0.05)  # this task was not cancelled by the client's task group
    finally:
        peer.kill()
        peer.wait(timeout=10)


def test_failed_rows_are_reported_not_raised() -> None:
    good = dict.fromkeys(bench_serve.METRICS, 1.0)
    runs: dict[str, list[dict[str, Any]]] = {
        "gRPC c=32": [good, good],
        bench_serve.FLOOR_ROW: [good, {"error": "boom"}],
        "REST c=32": [{"error": "down"}, {"error": "down"}],
        bench_serve.REST_FLOOR_ROW: [good, good],
        "toolwire MCP c=32": [good, good],
        f"{bench_serve.PEER_TEXT} c=32": [{"error": "TimeoutError"}, good],
        f"{bench_serve.PEER_STRUCTURED} c=32": [good, good],
    }
    rows = bench_serve.summarize(runs)
    assert rows["REST c=32"] == {"rounds": 0, "errors": ["down", "down"]}
    assert rows[bench_serve.FLOOR_ROW]["rounds"] == 1
    rss = {"warm": 1.0, "end": 1.0, "warm_after_calls": 1, "end_after_calls": 2}
    results = {r["name"]: r for r in bench_serve._results(rows, rss)}
    assert results["REST c=32: calls/s"]["error"] == "REST c=32: down"
    assert results["toolwire MCP c=32: calls/s"]["ratio"] == 1.0
    floors = {r["name"].split(" vs ")[0]: r for r in bench_serve._floor_results(runs)}
    assert floors["gRPC c=32"]["ratio"] == 1.0  # the one round where both ran
    assert floors["REST c=32"]["error"] == "down"
