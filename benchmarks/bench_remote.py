"""Per-call overhead of imported remote tools over calling the same service directly.

Three services run in their own processes on 127.0.0.1: the seed's FastAPI weather service
(uvicorn), the seed's gRPC WeatherService, and an MCP server with the same ``get_weather``
(streamable HTTP). For each, side by side:

- direct: a plain client (aiohttp POST, the generated gRPC stub, the mcp SDK ``Client``);
- toolwire: the tool imported via OpenAPI / gRPC reflection / MCP, called through
  ``Toolbox.call`` (validation, runtime, result) - what REST/gRPC/MCP serving and the runner use;
- MCP only: the mcp SDK opening a session per call (what session-per-call proxies do).

Cases of one service are measured in one event loop, interleaved round by round (medians
over rounds), so that load changes on a shared machine hit them alike. Latency: µs per call at
concurrency 1 (wall time, and the client process's CPU time, which is steadier on a shared
machine). Throughput: calls/s with 32 concurrent callers.
Targets: toolwire ≤ 1.3x direct latency and ≥ 0.8x direct throughput.

    python -m benchmarks.bench_remote [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._harness import Row, parse_args, payload, print_table, report, result, row

Call = Callable[[], Awaitable[Any]]

# Targets of issue 7 (toolwire / direct).
TARGET_LATENCY = 1.3
TARGET_THROUGHPUT = 0.8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"service on port {port} did not start")


def _serve_mcp(port: int) -> None:
    """Child process: an MCP server with the seed's get_weather over streamable HTTP."""
    import uvicorn
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer("weather", log_level="WARNING")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def get_weather(location: str) -> dict[str, int]:
        """获取指定城市的天气信息"""
        return {"temp": 25, "humidity": 60}

    uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning")


def _start(args: list[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL)
    _wait_port(port)
    return proc


async def _latency(call: Call, n: int, repeats: int) -> tuple[list[float], list[float]]:
    """Wall µs per call, and this process's CPU µs per call (robust on a shared machine)."""
    for _ in range(max(20, n // 10)):
        await call()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            await call()
        wall.append((time.perf_counter() - start) / n * 1e6)
        cpu.append((time.process_time() - start_cpu) / n * 1e6)
    return wall, cpu


async def _throughput(call: Call, n: int, repeats: int, concurrency: int = 32) -> list[float]:
    async def worker(count: int) -> None:
        for _ in range(count):
            await call()

    await asyncio.gather(*(worker(5) for _ in range(concurrency)))
    runs = []
    per = max(1, n // concurrency)
    for _ in range(repeats):
        start = time.perf_counter()
        await asyncio.gather(*(worker(per) for _ in range(concurrency)))
        runs.append(per * concurrency / (time.perf_counter() - start))
    return runs


async def _compare(
    makers: list[Callable[[], Awaitable[tuple[Call, Callable[[], Awaitable[None]]]]]],
    counts: list[int],
    repeats: int,
) -> list[tuple[list[float], list[float], list[float]]]:
    """Measure every case in one loop, interleaved round by round, so that load changes on
    a shared machine hit every case alike (medians over rounds)."""
    opened = [await make() for make in makers]
    out: list[tuple[list[float], list[float], list[float]]] = [([], [], []) for _ in makers]
    try:
        for _ in range(repeats):
            for i, ((call, _close), count) in enumerate(zip(opened, counts, strict=True)):
                wall, cpu = await _latency(call, count, 1)
                out[i][0].extend(wall)
                out[i][1].extend(cpu)
        for _ in range(repeats):
            for i, ((call, _close), count) in enumerate(zip(opened, counts, strict=True)):
                out[i][2].extend(await _throughput(call, count * 2, 1))
    finally:
        for _call, close in opened:
            await close()
    return out


async def _rest_direct(port: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    import aiohttp

    session = aiohttp.ClientSession()
    url = f"http://127.0.0.1:{port}/weather"

    async def call() -> Any:
        async with session.post(url, params={"location": "北京"}) as resp:
            resp.raise_for_status()
            return await resp.json()

    return call, session.close


async def _box_call(tools: list[Any], name: str, args: dict[str, Any]) -> Call:
    from toolwire._toolbox import Toolbox

    box = Toolbox(tools)

    async def call() -> Any:
        result = await box.call(name, args)
        if not result.ok:
            raise RuntimeError(result.error)
        return result.value

    return call


async def _rest_tool(port: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    from toolwire.remote import openapi
    from toolwire.remote._http import close_clients

    tools = await openapi.load(f"http://127.0.0.1:{port}/openapi.json", allow_hosts=["127.0.0.1"])
    return await _box_call(tools, "get_weather", {"location": "北京"}), close_clients


async def _grpc_direct(port: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    import grpc

    from toolwire.examples.proto import weather_pb2, weather_pb2_grpc

    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stub = weather_pb2_grpc.WeatherServiceStub(channel)

    async def call() -> Any:
        return await stub.GetWeather(weather_pb2.Location(name="北京"), timeout=30)

    return call, channel.close


async def _grpc_tool(port: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    from toolwire.remote import grpc as remote_grpc

    tools = await remote_grpc.load(f"127.0.0.1:{port}", allow_hosts=["127.0.0.1"])
    call = await _box_call(tools, "WeatherService.GetWeather", {"name": "北京"})
    return call, remote_grpc.close_channels


async def _mcp_direct(port: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    from mcp import Client

    client = Client(f"http://127.0.0.1:{port}/mcp")
    await client.__aenter__()

    async def call() -> Any:
        return await client.call_tool("get_weather", {"location": "北京"})

    async def close() -> None:
        await client.__aexit__(None, None, None)

    return call, close


async def _mcp_per_call(port: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    from mcp import Client

    async def call() -> Any:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            return await client.call_tool("get_weather", {"location": "北京"})

    async def close() -> None:
        return None

    return call, close


async def _mcp_tool(port: int) -> tuple[Call, Callable[[], Awaitable[None]]]:
    from toolwire.remote import mcp as remote_mcp

    tools = await remote_mcp.load(f"http://127.0.0.1:{port}/mcp", allow_hosts=["127.0.0.1"])
    call = await _box_call(tools, "get_weather", {"location": "北京"})
    return call, remote_mcp.close_sessions


def _results(
    title: str, cases: list[tuple[str, bool]], figures: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    """The schema's rows for one service: the direct client is the floor every ratio speaks
    of; the other non-toolwire cases are peers (for MCP, the mcp SDK client itself too)."""
    (direct_label, _), (ours_label, _) = cases[:2]
    direct, mine = figures[direct_label], figures[ours_label]
    peers = {label: figures[label] for label, ours in cases[2:] if not ours}
    if title.startswith("MCP"):
        peers = {direct_label: direct, **peers}

    def one(name: str, key: str, unit: str, better: str, **judged: Any) -> dict[str, Any]:
        ratio = mine[key] / direct[key]
        limit = judged.pop("limit", None)
        met = None if limit is None else (ratio <= limit if better == "lower" else ratio >= limit)
        return result(
            f"{title}: {name}",
            ours=mine[key],
            unit=unit,
            better=better,
            floor=direct[key],
            ratio=ratio,
            peers={k: v[key] for k, v in peers.items()},
            met=met,
            note=f"{ours_label}; floor: {direct_label}",
            **judged,
        )

    return [
        one(
            "latency at concurrency 1",
            "latency_us",
            "µs",
            "lower",
            limit=TARGET_LATENCY,
            target=f"<= {TARGET_LATENCY:g}x direct",
        ),
        one("client CPU per call at concurrency 1", "client_cpu_us", "µs", "lower"),
        one(
            "throughput at concurrency 32",
            "throughput_per_s",
            "calls/s",
            "higher",
            limit=TARGET_THROUGHPUT,
            target=f">= {TARGET_THROUGHPUT:g}x direct",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    if argv is None and len(sys.argv) > 2 and sys.argv[1] == "--serve-mcp":
        _serve_mcp(int(sys.argv[2]))
        return
    settings = parse_args(__doc__.splitlines()[0] if __doc__ else "", argv)
    n, repeats = (200, 3) if settings.quick else (300, 15)
    ports = {name: _free_port() for name in ("rest", "grpc", "mcp")}
    env_python = [
        ["-m", "toolwire.examples.weather_rest", "--port", str(ports["rest"])],
        ["-m", "toolwire.examples.weather_grpc", "--port", str(ports["grpc"])],
        ["-m", "benchmarks.bench_remote", "--serve-mcp", str(ports["mcp"])],
    ]
    procs = [_start(args, port) for args, port in zip(env_python, ports.values(), strict=True)]
    results: list[dict[str, Any]] = []
    try:
        groups = [
            ("REST (OpenAPI)", ports["rest"], [("direct: aiohttp POST", _rest_direct, False),
             ("toolwire: OpenAPI tool via Toolbox.call", _rest_tool, True)]),
            ("gRPC (reflection)", ports["grpc"], [("direct: generated stub", _grpc_direct, False),
             ("toolwire: reflected tool via Toolbox.call", _grpc_tool, True)]),
            ("MCP (streamable HTTP)", ports["mcp"], [
             ("direct: mcp SDK Client, one session", _mcp_direct, False),
             ("toolwire: MCP tool via Toolbox.call", _mcp_tool, True),
             ("mcp SDK Client, session per call", _mcp_per_call, False)]),
        ]  # fmt: skip
        for title, port, cases in groups:
            lat_rows: list[Row] = []
            cpu_rows: list[Row] = []
            thr_rows: list[Row] = []
            figures: dict[str, Any] = {}
            counts = [n if "per call" not in label else max(20, n // 20) for label, _, _ in cases]
            makers = [lambda make=make, port=port: make(port) for _, make, _ in cases]
            measured = asyncio.run(_compare(makers, counts, repeats))
            for (label, _, ours), (lat, cpu, thr) in zip(cases, measured, strict=True):
                lat_rows.append(row(label, lat, ours=ours))
                cpu_rows.append(row(label, cpu, ours=ours))
                thr_rows.append(row(label, thr, ours=ours))
                figures[label] = {
                    "latency_us": statistics.median(lat),
                    "client_cpu_us": statistics.median(cpu),
                    "throughput_per_s": statistics.median(thr),
                }
            direct = figures[cases[0][0]]
            mine = figures[cases[1][0]]
            ratio_lat = mine["latency_us"] / direct["latency_us"]
            ratio_thr = mine["throughput_per_s"] / direct["throughput_per_s"]
            ratio_cpu = mine["client_cpu_us"] / direct["client_cpu_us"]
            print_table(f"{title}: latency at concurrency 1", lat_rows)
            print_table(f"{title}: client CPU per call at concurrency 1", cpu_rows)
            print_table(f"{title}: throughput at concurrency 32", thr_rows, unit="calls/s")
            print(
                f"toolwire vs direct: latency {ratio_lat:.2f}x (target <= 1.3x), "
                f"client CPU {ratio_cpu:.2f}x, throughput {ratio_thr:.2f}x (target >= 0.8x)"
            )
            results.extend(_results(title, [(label, ours) for label, _, ours in cases], figures))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    report(
        settings,
        payload(
            "bench_remote",
            title="Imported remote tools vs the same services called directly",
            settings=settings,
            results=results,
            extra={"cpu_count": os.cpu_count(), "rounds": repeats, "calls per round": n},
        ),
    )


if __name__ == "__main__":
    main()
