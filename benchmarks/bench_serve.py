"""``toolwire serve`` under load: REST, gRPC and MCP vs the mcp SDK's own ``MCPServer``.

One server process each (ours serves all three transports; the peer serves the same
``get_weather`` over streamable HTTP); the load generator is this process. Reports calls/s and
p50/p99 at concurrency 1 and 32, and our server's RSS after all calls.

    python -m benchmarks.bench_serve [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._harness import parse_args, report

PEER = """
import sys
from mcp.server import MCPServer
mcp = MCPServer("peer")
@mcp.tool()
def get_weather(location: str) -> dict:
    '''获取指定城市的天气信息'''
    return {"location": location, "temp": 25, "humidity": 60}
mcp.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
"""
ARGS = {"location": "北京"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def load(
    call: Callable[[], Awaitable[Any]], total: int, concurrency: int
) -> dict[str, float]:
    latencies: list[float] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            t0 = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t0)

    for _ in range(min(50, total)):  # warm-up
        await call()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "calls_s": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


async def bench(total: int) -> dict[str, Any]:
    import aiohttp
    import grpc
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from toolwire import _json
    from toolwire.serve._gen import tools_pb2, tools_pb2_grpc

    port, grpc_port, peer_port = free_port(), free_port(), free_port()
    # Started once before measuring; blocking here costs nothing measured.
    ours = subprocess.Popen(  # noqa: ASYNC220
        [
            sys.executable,
            "-c",
            "from toolwire.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--grpc-port",
            str(grpc_port),
        ],
        stderr=subprocess.DEVNULL,
    )
    peer = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-c", PEER, str(peer_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, Any] = {}
    try:
        wait_port(port, ours)
        wait_port(grpc_port, ours)
        wait_port(peer_port, peer)
        body = _json.dumps_bytes(ARGS)
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as http:
            url = f"http://127.0.0.1:{port}/v1/tools/get_weather/call"

            async def rest() -> None:
                async with http.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as r:
                    assert r.status == 200
                    await r.read()

            for c in (1, 32):
                results[f"rest c={c}"] = await load(rest, total, c)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = tools_pb2_grpc.ToolServiceStub(channel)
            request = tools_pb2.CallToolRequest(name="get_weather", arguments_json=body.decode())

            async def grpc_call() -> None:
                await stub.CallTool(request)

            for c in (1, 32):
                results[f"grpc c={c}"] = await load(grpc_call, total, c)
        for label, mcp_port in (("mcp", port), ("peer mcp", peer_port)):
            limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
            http_client = httpx2.AsyncClient(limits=limits, timeout=30)
            target = f"http://127.0.0.1:{mcp_port}/mcp"
            async with Client(streamable_http_client(target, http_client=http_client)) as client:

                async def mcp_call(client: Any = client) -> None:
                    result = await client.call_tool("get_weather", ARGS)
                    assert not result.is_error

                for c in (1, 32):
                    results[f"{label} c={c}"] = await load(mcp_call, max(200, total // 4), c)
        results["rss_mb"] = rss_mb(ours.pid)
    finally:
        for proc in (ours, peer):
            proc.terminate()
            proc.wait(timeout=10)
    return results


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(__doc__ or "", argv)
    total = 2000 if settings.quick else 20_000
    results = asyncio.run(bench(total))
    peer = results["peer mcp c=32"]["calls_s"]
    print(f"toolwire serve vs mcp MCPServer (streamable HTTP), {total} calls per REST/gRPC row")
    print(f"{'transport':16}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs peer c=32':>14}")
    for name, r in results.items():
        if name == "rss_mb":
            continue
        ratio = r["calls_s"] / peer
        print(f"{name:16}{r['calls_s']:10.0f}{r['p50_ms']:9.2f}{r['p99_ms']:9.2f}{ratio:13.1f}x")
    print(f"server RSS after all calls: {results['rss_mb']:.0f} MB")
    report(settings, {"bench": "serve", "calls": total, "results": results, "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
