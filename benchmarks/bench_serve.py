"""``toolwire serve`` under load: REST, gRPC and MCP vs the mcp SDK's own ``MCPServer``.

One server process each (ours serves all three transports; the peer serves the same
``get_weather`` over streamable HTTP); the load generator is this process. Every row is run
in several interleaved rounds (so a burst of load from elsewhere hits every row alike) and
reported as the median round: calls/s, p50/p99 latency, the **server's CPU time per call**
(from ``/proc``), which is the figure that stays meaningful on a shared machine, and the
load generator's own CPU time per call (``getrusage`` of this process).

MCP is driven by two clients. The ``mcp`` SDK's ``Client`` (what users run) costs more CPU per
call than either server, so its rows measure the client; the wire client
(``benchmarks/_mcp_wire.py``: the same protocol over aiohttp, every answer checked) costs a
fraction of that, so its rows measure the servers. It runs twice: with an ``initialize``
session (protocol 2025-11-25, answers as SSE) and with the per-request envelope the SDK client
uses (2026-07-28, answers as JSON).
Our server's RSS is read after the first round (warm) and at the end (>= 100,000 calls in
a full run).

    python -m benchmarks.bench_serve [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

from benchmarks._harness import curve, parse_args, report
from benchmarks._mcp_wire import HANDSHAKE, MODERN, WireClient, WireError
from toolwire import _json

# The peer serves the seed's tool twice: returning a plain dict (text content only, the
# cheapest answer for the client: the reference for every ratio) and returning a TypedDict,
# which gives it the same output schema and structured content as ours (so the client
# validates both alike: the like-for-like MCP comparison).
PEER = """
import sys
from typing import TypedDict
from mcp.server import MCPServer
mcp = MCPServer("peer")
class Weather(TypedDict):
    location: str
    temp: int
    humidity: int
def get_weather(location: str):
    '''获取指定城市的天气信息'''
    return {"location": location, "temp": 25, "humidity": 60}
get_weather.__annotations__["return"] = Weather if sys.argv[2] == "structured" else dict
mcp.tool()(get_weather)
mcp.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
"""
PEER_TEXT = "peer MCPServer"
PEER_STRUCTURED = "peer MCPServer, structured"
# The gRPC floor: a bare grpcio aio servicer (same proto, uvloop like ours) answering a
# constant response, with no auth, limits, runtime or bookkeeping at all.
FLOOR = """
import sys, uvloop, grpc
from toolwire.serve._gen import tools_pb2, tools_pb2_grpc
REPLY = tools_pb2.CallToolResponse(
    call_id="call_0", name="get_weather", ok=True, attempts=1,
    value_json='{"location":"北京","temp":25,"humidity":60}',
)
class Floor(tools_pb2_grpc.ToolServiceServicer):
    async def CallTool(self, request, context):
        return REPLY
async def main():
    server = grpc.aio.server()
    tools_pb2_grpc.add_ToolServiceServicer_to_server(Floor(), server)
    server.add_insecure_port(f"127.0.0.1:{sys.argv[1]}")
    await server.start()
    await server.wait_for_termination()
uvloop.run(main())
"""
FLOOR_ROW = "gRPC floor c=32 (bare grpcio aio)"
# The REST floor: a plain FastAPI endpoint on the same uvicorn settings as ``toolwire serve``
# (uvloop, httptools, no access log) that parses the same body through FastAPI's own request
# model and returns the same JSON through its response path, with no auth, limits or runtime.
REST_FLOOR = """
import sys, uvicorn
from typing import Any
from fastapi import Body, FastAPI
app = FastAPI()
@app.post("/v1/tools/get_weather/call")
async def call(arguments: dict[str, Any] = Body(...)) -> dict[str, Any]:
    return {"call_id": "call_0", "name": "get_weather", "ok": True, "attempts": 1,
            "cached": False, "elapsed_s": 0.0,
            "value": {"location": arguments["location"], "temp": 25, "humidity": 60}}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="httptools",
            access_log=False, log_level="warning")
"""
REST_FLOOR_ROW = "REST floor c=32 (plain FastAPI endpoint)"
FLOORS = {FLOOR_ROW: "grpc", REST_FLOOR_ROW: "rest"}
# 32 calls in flight on one bidirectional CallTools stream: no HTTP/2 stream per call
STREAM_ROW = "gRPC c=32, CallTools stream"
ARGS = {"location": "北京"}
EXPECTED = {"location": "北京", "temp": 25, "humidity": 60}  # every MCP answer is checked
# The MCP clients, as row-name suffixes: the SDK's Client (no suffix: the reference),
# then the wire client with a session (2025-11-25) and with the per-request envelope the SDK
# Client itself speaks (2026-07-28).
SDK, WIRE, WIRE_MODERN = "", " (wire client)", f" (wire client, {MODERN})"
CONCURRENCY = (1, 8, 32)  # the x of the scaling curves
WIRE_VERSIONS = {WIRE: HANDSHAKE, WIRE_MODERN: MODERN}
TICKS = os.sysconf("SC_CLK_TCK")
# Opens one row's client on the given stack (closed after the row) and returns its call.
Opener = Callable[[contextlib.AsyncExitStack], Awaitable[Callable[[], Awaitable[Any]]]]


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
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # the server is gone: its row errors say why
        pass
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def load_avg() -> float:
    return os.getloadavg()[0]


def own_cpu_s() -> float:
    """User + system CPU seconds used so far by this process: the load generator."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def load(
    call: Callable[[], Awaitable[Any]], total: int, concurrency: int, pid: int
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

    # The load generator's own garbage: collected and frozen before each row, so a full
    # collection of everything earlier rows left behind (every client, session and latency
    # list) does not land inside whichever row happens to run when it is due. The SDK-client
    # MCP rows are bound by this process's CPU, and such a pause swung them by up to 1.6x.
    gc.collect()
    gc.freeze()
    for _ in range(min(50, total)):  # warm-up
        await call()
    cpu0, own0 = cpu_s(pid), own_cpu_s()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    server_cpu, client_cpu = cpu_s(pid) - cpu0, own_cpu_s() - own0
    latencies.sort()
    return {
        "calls_s": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "server_cpu_us": server_cpu / len(latencies) * 1e6,
        "client_cpu_us": client_cpu / len(latencies) * 1e6,
        "load": load_avg(),
    }


# Every wait is bounded. A row gets ROW_BASE_S plus 1 s per ROW_MIN_RATE calls (a row slower
# than that is broken, not slow); opening or closing one client, TEARDOWN_S.
ROW_BASE_S, ROW_MIN_RATE, TEARDOWN_S = 60.0, 20, 15.0


def describe(exc: BaseException) -> str:
    """One line for a failed row: the exception's type and message, groups flattened."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions)
    if isinstance(exc, TimeoutError) and not str(exc):
        return "TimeoutError (a bounded wait ran out)"
    return f"{type(exc).__name__}: {exc}"[:300]


async def bounded(awaitable: Awaitable[Any], seconds: float) -> Any:
    async with asyncio.timeout(seconds):
        return await awaitable


async def run_row(open_call: Opener, total: int, concurrency: int, pid: int) -> dict[str, Any]:
    """One round of one row: its client opened, the load run, the client closed, all bounded.

    A failure at any step is the row's ``error`` for this round and the run goes on; a
    failure closing the client after a good measurement is kept as ``teardown_error``. The
    row runs in a task of its own because the SDK ``Client`` holds an anyio task group for as
    long as it is open: when one of its POSTs fails at the HTTP level (the server closing a
    pooled keep-alive connection as the client reuses it: "Server disconnected without
    sending a response"), that task group cancels the task that opened the client and
    re-raises the error when the client closes. Opened in the benchmark's own task, as it
    was, one such failure ended the whole run at teardown with no figures.
    """
    limit = ROW_BASE_S + total / ROW_MIN_RATE

    async def attempt() -> dict[str, Any]:
        measured: dict[str, Any] | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                call = await bounded(open_call(stack), TEARDOWN_S)
                measured = await bounded(load(call, total, concurrency, pid), limit)
        except Exception as exc:
            if measured is None:
                return {"error": describe(exc), "load": load_avg()}
            measured["teardown_error"] = describe(exc)
        assert measured is not None
        return measured

    task = asyncio.create_task(attempt())
    done, _ = await asyncio.wait({task}, timeout=limit + 3 * TEARDOWN_S)
    if not done:  # stuck closing: cancelled, and waited for a bounded time only
        task.cancel()
        await asyncio.wait({task}, timeout=TEARDOWN_S)
        return {"error": f"the row did not finish within {limit + 3 * TEARDOWN_S:.0f} s"}
    try:
        return task.result()
    except (Exception, asyncio.CancelledError) as exc:  # cancelled from inside, not by us
        return {"error": describe(exc), "load": load_avg()}


class StreamCaller:
    """Calls multiplexed over ONE bidirectional ``CallTools`` stream: each call sends a
    request with its own id and waits for the answer carrying that id (answers arrive in
    completion order). ``load`` drives it like any other call, so its c=32 row keeps 32
    calls in flight on the one stream, each answer checked."""

    def __init__(self, stub: Any, request: Any) -> None:
        self._stub = stub
        self._request = request
        self._outgoing: asyncio.Queue[Any] = asyncio.Queue()
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._ids = itertools.count()
        self._reader: asyncio.Task[None] | None = None

    def open(self) -> None:
        async def requests() -> Any:
            while (request := await self._outgoing.get()) is not None:
                yield request

        self._reader = asyncio.create_task(self._read(self._stub.CallTools(requests())))

    async def _read(self, stream: Any) -> None:
        try:
            async for answer in stream:
                self._waiting.pop(answer.call_id).set_result(answer)
        finally:  # a broken stream fails every call still waiting, never hangs the run
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(WireError("the CallTools stream ended"))

    async def __call__(self) -> None:
        call_id = str(next(self._ids))
        future = self._waiting[call_id] = asyncio.get_running_loop().create_future()
        request = type(self._request)()
        request.CopyFrom(self._request)
        request.call_id = call_id
        self._outgoing.put_nowait(request)
        answer = await future
        if not answer.ok or _json.loads(answer.value_json) != EXPECTED:
            raise WireError(f"unexpected stream answer: {answer}")

    async def close(self) -> None:
        self._outgoing.put_nowait(None)
        if self._reader is not None:
            await self._reader


def check_answer(text: str, structured: Any) -> None:
    """The tool's value, as text content (JSON) and, when the server sends it, structured."""
    if _json.loads(text) != EXPECTED or structured not in (None, EXPECTED):
        raise WireError(f"unexpected answer: {text!r}, {structured!r}")


def sdk_call(client: Any) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        result = await client.call_tool("get_weather", ARGS)
        if result.is_error or result.content[0].type != "text":
            raise WireError(f"error result: {result}")
        check_answer(result.content[0].text, result.structured_content)

    return call


def wire_call(client: WireClient) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        await client.call_tool("get_weather", ARGS, EXPECTED)

    return call


async def bench(calls: int, mcp_calls: int, rounds: int) -> dict[str, Any]:
    import aiohttp
    import grpc
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from toolwire.serve._gen import tools_pb2, tools_pb2_grpc

    port, grpc_port = free_port(), free_port()
    peer_ports = {PEER_TEXT: free_port(), PEER_STRUCTURED: free_port()}
    serve = ["serve", "--port", str(port), "--grpc-port", str(grpc_port)]
    # Started once before measuring; blocking here costs nothing measured.
    floor_port, rest_floor_port = free_port(), free_port()
    floor = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-c", FLOOR, str(floor_port)], stderr=subprocess.DEVNULL
    )
    rest_floor = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-c", REST_FLOOR, str(rest_floor_port)], stderr=subprocess.DEVNULL
    )
    ours = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "toolwire", *serve], stderr=subprocess.DEVNULL
    )
    peers = {
        label: subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-c", PEER, str(p), "structured" if "structured" in label else "text"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for label, p in peer_ports.items()
    }
    procs = {"toolwire serve": ours, FLOOR_ROW: floor, REST_FLOOR_ROW: rest_floor, **peers}
    runs: dict[str, list[dict[str, Any]]] = {}
    rss: dict[str, float] = {}
    problems: list[str] = []  # teardown failures and servers that died: reported, not raised
    served = 0
    body = _json.dumps_bytes(ARGS)
    request = tools_pb2.CallToolRequest(name="get_weather", arguments_json=body.decode())
    url = f"http://127.0.0.1:{port}/v1/tools/get_weather/call"
    closers: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
    try:
        wait_port(port, ours)
        wait_port(grpc_port, ours)
        wait_port(floor_port, floor)
        wait_port(rest_floor_port, rest_floor)
        for label, proc in peers.items():
            wait_port(peer_ports[label], proc)
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        wire_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        closers += [("REST client", http.close), ("MCP wire client HTTP", wire_http.close)]
        shared = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
        # One channel (one HTTP/2 connection) per concurrency slot, to see whether a single
        # connection is what limits the shared-channel row.
        slots = [grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") for _ in range(32)]
        floor_channel = grpc.aio.insecure_channel(f"127.0.0.1:{floor_port}")
        shared_stub = tools_pb2_grpc.ToolServiceStub(shared)
        slot_stubs = [tools_pb2_grpc.ToolServiceStub(c) for c in slots]
        stream = StreamCaller(shared_stub, request)
        stream.open()
        # The stream first: it must end before its channel closes.
        closers.append(("CallTools stream", stream.close))
        closers += [("gRPC channel", c.close) for c in (shared, floor_channel, *slots)]
        floor_stub = tools_pb2_grpc.ToolServiceStub(floor_channel)
        turn = 0

        async def rest() -> None:
            async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                assert r.status == 200
                await r.read()

        floor_url = f"http://127.0.0.1:{rest_floor_port}/v1/tools/get_weather/call"

        async def rest_floor_call() -> None:
            async with http.post(
                floor_url, data=body, headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status == 200
                await r.read()

        async def grpc_shared() -> None:
            await shared_stub.CallTool(request)

        async def grpc_floor() -> None:
            await floor_stub.CallTool(request)

        async def grpc_slots() -> None:
            nonlocal turn
            turn += 1
            await slot_stubs[turn % 32].CallTool(request)

        def fixed(call: Callable[[], Awaitable[Any]]) -> Opener:
            async def open_call(stack: contextlib.AsyncExitStack) -> Callable[[], Awaitable[Any]]:
                return call

            return open_call

        def sdk_opener(target: str) -> Opener:
            """A fresh SDK ``Client`` (and its own httpx2 pool) for each row's round, closed
            (client, then pool) while its server is still up. A client kept open across the
            run sits idle between its rows, the servers close its pooled connections after
            their keep-alive timeout, and a client broken once would fail every later row."""

            async def open_call(stack: contextlib.AsyncExitStack) -> Callable[[], Awaitable[Any]]:
                limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
                pool = httpx2.AsyncClient(limits=limits, timeout=30)
                await stack.enter_async_context(pool)
                transport = streamable_http_client(target, http_client=pool)
                return sdk_call(await stack.enter_async_context(Client(transport)))

            return open_call

        def wire_opener(target: str, version: str) -> Opener:
            async def open_call(stack: contextlib.AsyncExitStack) -> Callable[[], Awaitable[Any]]:
                wire = WireClient(wire_http, target, version)
                await wire.open()
                stack.push_async_callback(wire.close)
                return wire_call(wire)

            return open_call

        rows: list[tuple[str, Callable[[], Awaitable[Any]], int]] = [
            *((f"REST c={c}", rest, c) for c in CONCURRENCY),
            (REST_FLOOR_ROW, rest_floor_call, 32),
            *((f"gRPC c={c}", grpc_shared, c) for c in CONCURRENCY),
            ("gRPC c=32, channel per slot", grpc_slots, 32),
            (STREAM_ROW, stream, 32),
            (FLOOR_ROW, grpc_floor, 32),
        ]
        mcp_ports = {"toolwire MCP": port, **peer_ports}
        # One opener per (server, client kind); every row's round opens its own client.
        mcp_openers: dict[str, dict[str, Opener]] = {}
        for label, mcp_port in mcp_ports.items():
            target = f"http://127.0.0.1:{mcp_port}/mcp"
            mcp_openers.setdefault(SDK, {})[label] = sdk_opener(target)
            for suffix, version in WIRE_VERSIONS.items():
                mcp_openers.setdefault(suffix, {})[label] = wire_opener(target, version)

        for r in range(rounds):
            for name, call, c in rows:
                pid = {FLOOR_ROW: floor.pid, REST_FLOOR_ROW: rest_floor.pid}.get(name, ours.pid)
                result = await run_row(fixed(call), calls, c, pid)
                runs.setdefault(name, []).append(result)
                served += calls + 50 if pid == ours.pid and "error" not in result else 0
                if r == 0 and name == "REST c=32":
                    rss["warm"] = rss_mb(ours.pid)
                    rss["warm_after_calls"] = served
            # With each client, the three MCP servers take turns at each concurrency,
            # starting with a different one each round, so that no server always runs first.
            labels = list(mcp_ports)
            labels = labels[r % len(labels) :] + labels[: r % len(labels)]
            for c in CONCURRENCY:
                for suffix, openers in mcp_openers.items():
                    for label in labels:
                        pid = peers[label].pid if label in peers else ours.pid
                        result = await run_row(openers[label], mcp_calls, c, pid)
                        runs.setdefault(f"{label} c={c}{suffix}", []).append(result)
                        if label not in peers and "error" not in result:
                            served += mcp_calls + 50
        rss["end"] = rss_mb(ours.pid)
        rss["end_after_calls"] = served
    finally:
        # Clients first, each close bounded, then the servers: no server stops under a client
        # that still holds a session or a stream on it.
        for what, close in closers:
            try:
                await bounded(close(), TEARDOWN_S)
            except Exception as exc:
                problems.append(f"closing the {what}: {describe(exc)}")
        for what, proc in procs.items():
            if proc.poll() is not None:
                problems.append(f"{what} exited during the run (code {proc.returncode})")
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    return {"rows": summarize(runs), "runs": runs, "rss_mb": rss, "problems": problems}


METRICS = ("calls_s", "p50_ms", "p99_ms", "server_cpu_us", "client_cpu_us", "load")


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each row's median over its good rounds; a row with no good round keeps its error."""
    rows: dict[str, dict[str, Any]] = {}
    for name, rs in runs.items():
        good = [run for run in rs if "error" not in run]
        errors = [run["error"] for run in rs if "error" in run]
        row: dict[str, Any] = {
            key: statistics.median(run[key] for run in good) for key in METRICS if good
        }
        row["rounds"] = len(good)
        if errors:
            row["errors"] = errors
        if teardown := [run["teardown_error"] for run in rs if "teardown_error" in run]:
            row["teardown_errors"] = teardown
        rows[name] = row
    return rows


MCP_LABELS = ("toolwire MCP", PEER_TEXT, PEER_STRUCTURED)
CLIENT_NAMES = {SDK: "the mcp SDK Client", WIRE: f"the wire client ({HANDSHAKE}, session)"}
CLIENT_NAMES[WIRE_MODERN] = f"the wire client ({MODERN}, per-request envelope)"


def _mcp_row(name: str) -> tuple[int, str] | None:
    """(concurrency, client suffix) of an MCP row, None for the others."""
    for label in MCP_LABELS:
        for c in CONCURRENCY:
            for suffix in CLIENT_NAMES:
                if name == f"{label} c={c}{suffix}":
                    return c, suffix
    return None


def _peer_rows(name: str) -> tuple[str, str]:
    """The text and structured peer rows a row is compared with.

    An MCP row: the peers at the same concurrency, driven by the same client. Every other
    row: the peer at c=32 with the SDK client, the issue's reference.
    """
    c, suffix = _mcp_row(name) or (32, SDK)
    return f"{PEER_TEXT} c={c}{suffix}", f"{PEER_STRUCTURED} c={c}{suffix}"


# Issue 21: (row, its floor, calls/s target as a multiple of the floor's, server CPU bound)
FLOOR_TARGETS = (
    ("gRPC c=32", FLOOR_ROW, 0.95, 1.1),
    ("REST c=32", REST_FLOOR_ROW, 1.3, None),
)


def ok(row: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """A row (or round) with figures: not failed, not missing."""
    return row is not None and "calls_s" in row


def _round_ratio(runs: dict[str, list[dict[str, Any]]], a: str, b: str, key: str) -> float | None:
    """The median of each round's own a / b: both ran back to back in every round (rounds
    where either failed are left out; None when no round has both)."""
    pairs = [
        x[key] / y[key]
        for x, y in zip(runs.get(a, []), runs.get(b, []), strict=True)
        if ok(x) and ok(y)
    ]
    return statistics.median(pairs) if pairs else None


def _error_result(name: str, row: dict[str, Any] | None, target: str | None) -> dict[str, Any]:
    errors = row.get("errors", []) if row else ["not run"]
    return {
        "name": name,
        "error": "; ".join(dict.fromkeys(errors)) or "no figures",
        "target": target,
        "met": None,
    }


def _floor_results(runs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each transport against its bare floor in the same run (issue 21)."""
    out: list[dict[str, Any]] = []
    for name, floor, speed, cpu in FLOOR_TARGETS:
        ratio = _round_ratio(runs, name, floor, "calls_s")
        cpu_ratio = _round_ratio(runs, name, floor, "server_cpu_us")
        target = f">= {speed:g}x the floor's calls/s" + (
            f", server CPU/call <= {cpu:g}x the floor's" if cpu is not None else ""
        )
        title = f"{name} vs {floor}: calls/s ratio"
        if ratio is None or cpu_ratio is None:
            failed = [r for r in (*runs.get(name, []), *runs.get(floor, [])) if not ok(r)]
            out.append(_error_result(title, {"errors": [r.get("error") for r in failed]}, target))
            continue
        met = ratio >= speed and (cpu is None or cpu_ratio <= cpu)
        ours = [r for r in runs[name] if ok(r)]
        base = [r for r in runs[floor] if ok(r)]
        out.append(
            {
                "name": title,
                "unit": "x",
                "better": "higher",
                "ours": round(ratio, 2),
                "ratio": round(ratio, 2),
                "server_cpu_ratio": round(cpu_ratio, 2),
                "target": target,
                "met": met,
                "note": (
                    f"median of each round's own ratio over {len(ours)} of "
                    f"{len(runs[name])} rounds; calls/s "
                    f"{statistics.median(r['calls_s'] for r in ours):.0f} vs "
                    f"{statistics.median(r['calls_s'] for r in base):.0f}; server CPU "
                    f"{statistics.median(r['server_cpu_us'] for r in ours):.0f} vs "
                    f"{statistics.median(r['server_cpu_us'] for r in base):.0f} us/call; load "
                    f"generator CPU {statistics.median(r['client_cpu_us'] for r in ours):.0f} vs "
                    f"{statistics.median(r['client_cpu_us'] for r in base):.0f} us/call; load "
                    f"average {statistics.median(r['load'] for r in ours):.1f}"
                ),
            }
        )
    return out


def _results(rows: dict[str, dict[str, Any]], rss: dict[str, float]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    floor = rows.get(FLOOR_ROW)
    for name, r in rows.items():
        if name.startswith("peer") or name in FLOORS:
            continue
        text_name, alike_name = _peer_rows(name)
        peer, alike = rows.get(text_name), rows.get(alike_name)
        target: str | None = None
        mcp = _mcp_row(name)
        if name.startswith(("REST c=32", "gRPC c=32")):
            target = ">= 5x the peer's calls/s at c=32, p99 <= 20 ms"
        elif mcp is not None and mcp[0] == 32:
            # Judged with each client on its own: the SDK Client's rows are bound by the
            # client, the wire client's by the servers.
            target = f">= the peer's calls/s at c=32, both driven by {CLIENT_NAMES[mcp[1]]}"
        if not (ok(r) and ok(peer) and ok(alike)):
            failed = {name: r, text_name: peer, alike_name: alike}
            errors = [
                f"{n}: {e}"
                for n, row in failed.items()
                if not ok(row)
                for e in (row or {}).get("errors", ["not run"])
            ]
            out.append(_error_result(f"{name}: calls/s", {"errors": errors}, target))
            continue
        ratio = r["calls_s"] / peer["calls_s"]
        met: bool | None = None
        note = ""
        if name.startswith(("REST c=32", "gRPC c=32")):
            met = ratio >= 5 and r["p99_ms"] <= 20
        elif mcp is not None and mcp[0] == 32:
            met = ratio >= 1
        if mcp is not None:
            note = (
                f"load generator CPU {r['client_cpu_us']:.0f} us/call (peer row "
                f"{peer['client_cpu_us']:.0f}); server CPU {r['server_cpu_us']:.0f} us/call "
                f"(peer {peer['server_cpu_us']:.0f}, structured peer {alike['server_cpu_us']:.0f})"
            )
            if r["client_cpu_us"] > r["server_cpu_us"]:
                note = "client-bound: " + note
        out.append(
            {
                "name": f"{name}: calls/s",
                "unit": "calls/s",
                "better": "higher",
                "ours": round(r["calls_s"]),
                "peers": {
                    f"{text_name} (text result)": round(peer["calls_s"]),
                    f"{alike_name} (same output schema)": round(alike["calls_s"]),
                },
                "ratio": round(ratio, 2),
                "ratio_vs_structured_peer": round(r["calls_s"] / alike["calls_s"], 2),
                "target": target,
                "met": met,
                "p50_ms": round(r["p50_ms"], 2),
                "p99_ms": round(r["p99_ms"], 2),
                "server_cpu_us": round(r["server_cpu_us"]),
                "peer_server_cpu_us": round(peer["server_cpu_us"]),
                "client_cpu_us": round(r["client_cpu_us"]),
                "peer_client_cpu_us": round(peer["client_cpu_us"]),
            }
        )
        if note:
            out[-1]["note"] = note
        if name == STREAM_ROW:
            out[-1]["note"] = (
                "32 calls in flight on one bidirectional CallTools stream (our batch API; "
                "the peer has no equivalent); the unary rows are the per-call RPC"
            )
        elif name.startswith("gRPC c=32") and floor is not None and ok(floor):
            out[-1]["floor"] = round(floor["calls_s"])
            out[-1]["floor_server_cpu_us"] = round(floor["server_cpu_us"])
    out.append(
        {
            "name": "server RSS growth after warm-up",
            "unit": "MB",
            "better": "lower",
            "ours": round(rss["end"] - rss["warm"], 1),
            "target": "< 50 MB growth",
            "met": rss["end"] - rss["warm"] < 50,
            "note": f"{rss['warm']:.0f} MB after {rss['warm_after_calls']} calls, "
            f"{rss['end']:.0f} MB after {rss['end_after_calls']}",
        }
    )
    return out


def _curves(rows: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    """calls/s and p99 by concurrency: REST and gRPC, and each MCP server with the SDK client
    and with the wire client speaking the SDK's own protocol version."""
    series_rows = {
        "toolwire REST": "REST c={c}",
        "toolwire gRPC": "gRPC c={c}",
        "toolwire MCP, SDK client": "toolwire MCP c={c}",
        f"{PEER_TEXT}, SDK client": f"{PEER_TEXT} c={{c}}",
        f"toolwire MCP, wire client ({MODERN})": f"toolwire MCP c={{c}}{WIRE_MODERN}",
        f"{PEER_TEXT}, wire client ({MODERN})": f"{PEER_TEXT} c={{c}}{WIRE_MODERN}",
    }

    def series(key: str) -> dict[str, list[float | None]]:
        return {
            label: [
                round(r[key], 2) if ok(r := rows.get(pattern.format(c=c))) else None
                for c in CONCURRENCY
            ]
            for label, pattern in series_rows.items()
        }

    return {
        "concurrency": curve(
            title="calls/s by concurrency (one server process)",
            x=CONCURRENCY,
            x_label="concurrent calls",
            y_label="calls/s",
            series=series("calls_s"),
            log_x=True,
            log_y=True,
        ),
        "concurrency_p99": curve(
            title="p99 latency by concurrency",
            x=CONCURRENCY,
            x_label="concurrent calls",
            y_label="p99 ms",
            series=series("p99_ms"),
            log_x=True,
            log_y=True,
            target=(20.0, "p99 target for REST and gRPC at c=32 (20 ms)"),
        ),
    }


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(__doc__ or "", argv)
    # A full run gives each MCP row 2,000 calls a round (enough for a stable median: the
    # SDK-client rows run at ~300-900 calls/s here); --quick stays a quick check.
    calls, mcp_calls, rounds = (2000, 300, 1) if settings.quick else (7000, 2000, 3)
    load_before = load_avg()
    data = asyncio.run(bench(calls, mcp_calls, rounds))
    rows, rss = data["rows"], data["rss_mb"]
    print(
        f"toolwire serve vs mcp MCPServer (streamable HTTP): {calls} calls per REST/gRPC row, "
        f"{mcp_calls} per MCP row, median of {rounds} round(s); "
        f"load average {load_before:.1f} before, {load_avg():.1f} after ({os.cpu_count()} CPUs)"
    )
    print(
        "CPU us = CPU time per call of the server / of the load generator (this process); "
        "vs peer = calls/s over the text peer's (MCP rows: same client and concurrency; "
        "others: the peer at c=32 with the SDK client)"
    )
    header = f"{'row':56}{'calls/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
    print(header + f"{'srv CPU us':>11}{'gen CPU us':>11}{'vs peer':>9}")
    for name, r in rows.items():
        if not ok(r):
            print(f"{name:56}  error: {'; '.join(dict.fromkeys(r.get('errors', [])))}")
            continue
        peer = rows.get(_peer_rows(name)[0])
        ratio = f"{r['calls_s'] / peer['calls_s']:8.2f}x" if ok(peer) else "      --"
        failed = f"  ({len(r['errors'])} round(s) failed)" if r.get("errors") else ""
        print(
            f"{name:56}{r['calls_s']:9.0f}{r['p50_ms']:8.2f}{r['p99_ms']:8.2f}"
            f"{r['server_cpu_us']:11.0f}{r['client_cpu_us']:11.0f}{ratio}{failed}"
        )
    floor_results = _floor_results(data["runs"])
    for f in floor_results:
        verdict = f"error: {f['error']}" if "error" in f else f"{f['ratio']:.2f}x, {f['note']}"
        print(f"{f['name']}: {verdict}")
    if rss:
        print(
            f"server RSS: {rss['warm']:.0f} MB after {rss['warm_after_calls']} calls (warm), "
            f"{rss['end']:.0f} MB after {rss['end_after_calls']}"
        )
    for problem in data["problems"]:
        print(f"problem: {problem}")
    report(
        settings,
        {
            "benchmark": "bench_serve",
            "title": "toolwire serve (REST, gRPC, MCP) vs the mcp SDK's MCPServer",
            "quick": settings.quick,
            "results": _results(rows, rss) + floor_results,
            "curves": _curves(rows),
            "extra": {
                "rows": rows,
                "rounds": data["runs"],
                "rss_mb": rss,
                "problems": data["problems"],
                "load_average_before": load_before,
                "cpus": os.cpu_count(),
            },
        },
    )


if __name__ == "__main__":
    main()
