"""The runtime's cost: policy-stack overhead, Redis round trips, fan-out and its per-call cost.

1. Overhead of the default stack (timeout + retry + breaker + concurrency; and with a cache
   miss) over a bare validated call (``tool.validate`` + ``await handler``), through
   ``Toolbox.call``: median µs.
2. Redis (a private redis-server on an ephemeral port): for each combination of policies, the
   round trips on the caller's critical path (counted at the connection while the call runs)
   and behind the answer (its after-call writes, counted once ``Executor.flush`` returns), µs
   per call and client/server CPU per call. Target: at most one on the critical path.
3. Fan-out: N = 1 -> 1,000 calls of an async tool that sleeps 50 ms in one turn, through
   ``box.run``: wall time vs a bare ``asyncio.gather`` (target <= 1.10x at 1,000), side by
   side with each peer's own executor for a turn's calls: openai-agents (``on_invoke_tool``),
   pydantic-ai (``ToolManager.handle_call``) and langgraph (prebuilt ``ToolNode`` given an
   ``AIMessage`` with N ``tool_calls``, in a one-node ``StateGraph``), when importable.
4. The per-call overhead curve: the same executors with N = 1 -> 1,000 calls of a tool that
   returns at once, (executor(N) - gather(N)) / N, each beside the single ``box.call``
   overhead (``box.call`` - awaiting the handler); target: ``box.run``'s <= 1.5x at every N.

    python -m benchmarks.bench_runtime [--quick] [--json]
"""

# No ``from __future__ import annotations`` in this module: langchain-core resolves a tool's
# type hints on every call (langgraph's ToolNode goes through it), and string annotations would
# charge it an ``eval`` per call that tools written without that import do not pay.

import asyncio
import gc
import itertools
import shutil
import socket
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._harness import (
    curve,
    measure,
    parse_args,
    payload,
    print_table,
    report,
    result,
    row,
)
from toolwire._calls import ToolCall
from toolwire._toolbox import Toolbox
from toolwire._tools import tool
from toolwire.runtime import Breaker, Cache, Executor, Policy, RateLimit, Retry

FULL = Policy(
    timeout=5.0,
    retry=Retry(retry_on=(ConnectionError,), attempts=3),
    breaker=Breaker(),
    concurrency=10_000,
)
FULL_CACHE = Policy(
    timeout=5.0,
    retry=Retry(retry_on=(ConnectionError,), attempts=3),
    breaker=Breaker(),
    concurrency=10_000,
    cache=Cache(ttl=60, max_entries=1000),
)
RATE_BREAKER = Policy(rate_limit=RateLimit(rate=1e9), breaker=Breaker())
EVERYTHING = Policy(
    timeout=5.0,
    retry=Retry(retry_on=(ConnectionError,), attempts=3),
    breaker=Breaker(),
    concurrency=10_000,
    cache=Cache(ttl=60, max_entries=1000),
    rate_limit=RateLimit(rate=1e9),
)


async def lookup(city: str, n: int = 0) -> dict[str, Any]:
    return {"city": city, "n": n}


def make_tool(policy: Policy | None) -> Any:
    return tool(read_only=True, policy=policy, name="lookup")(lookup)


Bench = Callable[[], Awaitable[Any]]


def bare(unique: bool) -> Bench:
    t = make_tool(None)
    counter = itertools.count()

    async def call() -> Any:
        args = f'{{"city": "Oslo", "n": {next(counter)}}}' if unique else '{"city": "Oslo"}'
        return await t.handler(**t.validate(args))

    return call


def ours(policy: Policy | None, unique: bool, backend: Any = None) -> Bench:
    box = Toolbox([make_tool(policy)], runtime=Executor(backend=backend))
    counter = itertools.count()

    async def call() -> Any:
        args = f'{{"city": "Oslo", "n": {next(counter)}}}' if unique else '{"city": "Oslo"}'
        res = await box.call("lookup", args)
        assert res.ok, res
        return res.value

    return call


# --------------------------------------------------------------------------- Redis part


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis() -> tuple[subprocess.Popen[bytes], int] | None:
    if shutil.which("redis-server") is None:
        return None
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    proc.kill()
    return None


async def _server_cpu(client: Any) -> float:
    """CPU seconds the (private) redis-server has used, user + system."""
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


# policy combinations: (policy, unique arguments (a miss), idempotency key per call)
REDIS_CASES: dict[str, tuple[Policy, bool, bool]] = {
    "no shared policy (timeout + retry)": (
        Policy(timeout=5.0, retry=Retry(retry_on=(ConnectionError,))),
        True,
        False,
    ),
    "breaker": (Policy(breaker=Breaker()), True, False),
    "rate limit": (Policy(rate_limit=RateLimit(rate=1e9)), True, False),
    "concurrency": (Policy(concurrency=10_000), True, False),
    "cache hit": (Policy(cache=Cache()), False, False),
    "cache miss": (Policy(cache=Cache()), True, False),
    "idempotency key (new)": (Policy(), True, True),
    "rate limit + breaker": (RATE_BREAKER, True, False),
    "full stack + cache miss": (FULL_CACHE, True, False),
    "full stack + cache hit": (FULL_CACHE, False, False),
    "everything, cache miss + idem key": (EVERYTHING, True, True),
}


async def redis_costs(url: str, n: int) -> dict[str, dict[str, float]]:
    """Per combination: round trips on the critical path and behind the answer per call, µs
    per call, client and server CPU per call. A round trip is one request written to a
    connection (a pipeline is one), counted at the connection."""
    import redis.asyncio as aioredis
    from redis.asyncio.connection import Connection

    from toolwire.state.redis import RedisBackend

    trips = [0]

    class CountingConnection(Connection):
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            trips[0] += 1
            await super().send_packed_command(command, check_health)

    out: dict[str, dict[str, float]] = {}
    for label, (policy, unique, idem) in REDIS_CASES.items():
        client = aioredis.Redis.from_url(url, connection_class=CountingConnection)
        backend = RedisBackend(client=client, prefix=f"bench:{label}:")
        box = Toolbox([make_tool(policy)], runtime=Executor(backend=backend))
        counter = itertools.count()

        async def one(box: Toolbox = box, unique: bool = unique, idem: bool = idem,
                      counter: Any = counter) -> None:  # fmt: skip
            i = next(counter)
            args = f'{{"city": "Oslo", "n": {i}}}' if unique else '{"city": "Oslo"}'
            res = await box.call("lookup", args, idempotency_key=f"k{i}" if idem else None)
            assert res.ok, res

        for _ in range(50):
            await one()
        await box.runtime.flush(10.0)
        # critical path: calls one at a time, each followed by a flush, so every write is
        # counted behind its own call and none rides ahead of the next admission
        critical = behind = 0
        for _ in range(min(n, 200)):
            trips[0] = 0
            await one()
            critical += trips[0]
            trips[0] = 0
            await box.runtime.flush(10.0)
            behind += trips[0]
        # throughput: back to back, as a caller makes them (writes ride ahead of admissions)
        server_cpu = await _server_cpu(client)
        cpu = time.process_time()
        start = time.perf_counter()
        for _ in range(n):
            await one()
        await box.runtime.flush(10.0)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        server_cpu = await _server_cpu(client) - server_cpu
        k = min(n, 200)
        out[label] = {
            "critical_trips_per_call": critical / k,
            "behind_trips_per_call": behind / k,
            "us_per_call": elapsed / n * 1e6,
            # CPU time is immune to the other jobs on the machine; wall time is not
            "client_cpu_us_per_call": cpu / n * 1e6,
            "server_cpu_us_per_call": server_cpu / n * 1e6,
        }
        await box.runtime.aclose()
        await client.flushall()
        await backend.aclose()
    return out


# --------------------------------------------------------------------------- fan-out
# One model turn of N calls, run by each library's own executor. Every contender starts from
# the same input, the model's output as JSON text (call id and arguments), and builds its own
# call objects from it inside the timed region, as it does on a real response.

FAN = 1000
FAN_CURVE = (1, 10, 100, FAN)
SLEEP = 0.05
RAW = [(f"c{i}", f'{{"i": {i}}}') for i in range(FAN)]

GATHER = "bare asyncio.gather"
OURS = "toolwire box.run (default Executor)"
OURS_256 = "toolwire box.run (max_concurrency=256)"
PEER_OPENAI = "openai-agents on_invoke_tool + gather"
PEER_PYDANTIC = "pydantic-ai ToolManager.handle_call + gather"
PEER_LANGGRAPH = "langgraph ToolNode in a StateGraph"
FAN_PEERS = (PEER_OPENAI, PEER_PYDANTIC, PEER_LANGGRAPH)
TARGET_FAN = 1.10  # issue 21: 1,000 calls within 1.10x a bare gather

ToolFn = Callable[[int], Awaitable[int]]
Fan = Callable[[int], Awaitable[None]]  # runs one turn of the first N calls of RAW, checked


async def nap(i: int) -> int:
    """Sleep 50 ms, then return i."""
    await asyncio.sleep(SLEEP)
    return i


async def noop(i: int) -> int:
    """Return i at once."""
    return i


def fan_bare(fn: ToolFn) -> Fan:
    """The floor: the tool's coroutines gathered directly, no parsing, no validation."""

    async def go(n: int) -> None:
        assert await asyncio.gather(*(fn(i) for i in range(n))) == list(range(n))

    return go


def fan_ours(fn: ToolFn, max_concurrency: int | None = None) -> Fan:
    ex = Executor() if max_concurrency is None else Executor(max_concurrency=max_concurrency)
    box = Toolbox([tool(fn)], runtime=ex)
    name = fn.__name__

    async def go(n: int) -> None:
        results = await box.run([ToolCall(id=c, name=name, arguments=a) for c, a in RAW[:n]])
        assert [r.value for r in results] == list(range(n)), results[:1]

    return go


def fan_openai_agents(fn: ToolFn) -> Fan:
    """What ``Runner.run`` does with a turn's function calls: ``on_invoke_tool`` for each."""
    from agents import function_tool
    from agents.tool_context import ToolContext

    fn_tool = function_tool(fn)
    name = fn.__name__

    async def one(call_id: str, args: str) -> Any:
        ctx = ToolContext(context=None, tool_name=name, tool_call_id=call_id, tool_arguments=args)
        return await fn_tool.on_invoke_tool(ctx, args)

    async def go(n: int) -> None:
        assert await asyncio.gather(*(one(c, a) for c, a in RAW[:n])) == list(range(n))

    return go


def fan_pydantic_ai(fn: ToolFn) -> Fan:
    """What ``Agent.run`` does with a turn's tool calls: a run step's ``ToolManager``."""
    from pydantic_ai import RunContext
    from pydantic_ai.messages import ToolCallPart
    from pydantic_ai.models.test import TestModel
    from pydantic_ai.tool_manager import ToolManager
    from pydantic_ai.toolsets import FunctionToolset
    from pydantic_ai.usage import RunUsage

    toolset = FunctionToolset([fn])
    name = fn.__name__

    async def go(n: int) -> None:
        ctx = RunContext(deps=None, model=TestModel(), usage=RunUsage())
        manager = await ToolManager(toolset).for_run_step(ctx)
        parts = [ToolCallPart(tool_name=name, args=a, tool_call_id=c) for c, a in RAW[:n]]
        out = await asyncio.gather(*(manager.handle_call(p) for p in parts))
        assert out == list(range(n))

    return go


def _one_node_graph(node: Any) -> Any:
    from langgraph.graph import END, START, MessagesState, StateGraph

    graph = StateGraph(MessagesState)
    graph.add_node("tools", node)
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    return graph.compile()


def fan_langgraph(fn: ToolFn) -> Fan:
    """langgraph's prebuilt ``ToolNode`` given an ``AIMessage`` carrying the turn's calls.

    A ``ToolNode`` runs inside a graph (invoked alone it raises "Missing required config
    key", langgraph issue 6397), so it is measured as users run it: the one node of a
    compiled ``StateGraph``. The graph's own cost is measured apart (``langgraph_graph_alone``).
    """
    from langchain_core.messages import AIMessage
    from langchain_core.output_parsers.openai_tools import parse_tool_call
    from langgraph.prebuilt import ToolNode

    graph = _one_node_graph(ToolNode([fn]))
    name = fn.__name__

    async def go(n: int) -> None:
        # the parser langchain's OpenAI integration turns a response's tool calls with
        raw = ({"id": c, "function": {"name": name, "arguments": a}} for c, a in RAW[:n])
        calls = [parse_tool_call(r, return_id=True) for r in raw]
        state = await graph.ainvoke({"messages": [AIMessage(content="", tool_calls=calls)]})
        replies = state["messages"][1:]
        assert all(m.status == "success" for m in replies), replies[:1]
        assert [m.content for m in replies] == [str(i) for i in range(n)], replies[:1]

    return go


def langgraph_graph_alone() -> Callable[[], Awaitable[None]]:
    """The same one-node graph with a node that does nothing: what the graph itself costs."""
    from langchain_core.messages import AIMessage

    async def passthrough(state: Any) -> dict[str, Any]:
        return {}

    graph = _one_node_graph(passthrough)

    async def go() -> None:
        await graph.ainvoke({"messages": [AIMessage(content="")]})

    return go


def contenders(fn: ToolFn) -> dict[str, Callable[[], Fan]]:
    """Each contender's factory (a peer's raises ImportError when it is not installed)."""
    return {
        GATHER: lambda: fan_bare(fn),
        OURS: lambda: fan_ours(fn),
        OURS_256: lambda: fan_ours(fn, 256),
        PEER_OPENAI: lambda: fan_openai_agents(fn),
        PEER_PYDANTIC: lambda: fan_pydantic_ai(fn),
        PEER_LANGGRAPH: lambda: fan_langgraph(fn),
    }


def fan_out(repeats: int) -> dict[str, Any]:
    """Median wall ms per N for each contender, and its median ratio to the bare gather.

    For each N: a warm-up round, then ``repeats`` rounds in which every contender runs once,
    in an order rotating each round. Each ratio is taken within its round (contender / bare
    gather of the same round), so load on the machine lands on both sides of it.
    """
    runs: dict[str, Fan] = {}
    notes: dict[str, str] = {}
    for name, make in contenders(nap).items():
        try:
            runs[name] = make()
        except ImportError as exc:
            notes[name] = f"not installed ({exc.name})"
    ms: dict[str, list[float | None]] = {name: [] for name in contenders(nap)}
    ratio: dict[str, list[float | None]] = {name: [] for name in contenders(nap)}

    async def rounds() -> None:
        for n in FAN_CURVE:
            alive = [name for name in runs if name not in notes]
            times: dict[str, list[float]] = {name: [] for name in alive}
            for r in range(repeats + 1):  # round 0 is the warm-up
                order = alive[r % len(alive) :] + alive[: r % len(alive)]
                for name in order:
                    if name in notes:
                        continue
                    # no garbage left by the previous contender lands in this timing; the
                    # collector stays on while timing, as in production
                    gc.collect()
                    start = time.perf_counter()
                    try:
                        await runs[name](n)
                    except Exception as exc:
                        if name not in FAN_PEERS:
                            raise  # ours or the floor failing is a bug: crash visibly
                        notes[name] = f"failed: {exc!r}"[:120]  # a peer's API moved
                        continue
                    if r:
                        times[name].append(time.perf_counter() - start)
            floor = times[GATHER]
            for name in ms:
                own = times.get(name, [])
                done = name not in notes and len(own) == repeats
                ms[name].append(statistics.median(own) * 1000 if done else None)
                pairs = [t / f for t, f in zip(own, floor, strict=True)] if done else []
                ratio[name].append(statistics.median(pairs) if pairs else None)

    # Everything built so far (modules, the contenders) lives to the end: frozen, it is left
    # out of the collections below, which then cost ~1 ms each instead of ~200 ms with every
    # peer imported. New objects are collected as usual.
    gc.collect()
    gc.freeze()
    try:
        asyncio.run(rounds())
    finally:
        gc.unfreeze()
    return {"ms": ms, "ratio": ratio, "notes": notes, "repeats": repeats}


TARGET_OVERHEAD = 1.5  # issue 21: box.run's per-call overhead <= 1.5x a single box.call's
CALLS_PER_TIMING = 2000  # each timing runs turns of N calls adding up to about this many


def overhead_curve(repeats: int) -> dict[str, Any]:
    """Per-call overhead of a turn of N calls of a tool that returns at once, per executor.

    For each N, in rounds with a rotating order: each contender runs ``CALLS_PER_TIMING / N``
    turns of N calls; its per-call overhead is ``(its time - bare gather's time) / calls``,
    pair by pair within the round, median over the rounds. The reference is the overhead of
    one ``box.call`` over awaiting the handler itself, measured in the same rounds.
    """
    runs: dict[str, Fan] = {}
    notes: dict[str, str] = {}
    for name, make in contenders(noop).items():
        if name == OURS_256:
            continue
        try:
            runs[name] = make()
        except ImportError as exc:
            notes[name] = f"not installed ({exc.name})"
    box = Toolbox([tool(noop)])

    async def one_call() -> None:
        res = await box.call("noop", '{"i": 1}')
        assert res.value == 1

    async def one_handler() -> None:
        assert await noop(1) == 1

    names = [n for n in runs if n != GATHER]
    overhead: dict[str, list[float | None]] = {n: [] for n in names}
    per_call_us: dict[str, list[float | None]] = {n: [] for n in (GATHER, *names)}
    reference: list[float] = []

    async def timed(go: Callable[[], Awaitable[Any]], times: int) -> float:
        start = time.perf_counter()
        for _ in range(times):
            await go()
        return time.perf_counter() - start

    async def timed_turns(fan: Fan, n: int, times: int) -> float:
        start = time.perf_counter()
        for _ in range(times):
            await fan(n)
        return time.perf_counter() - start

    async def rounds() -> None:
        for n in FAN_CURVE:
            turns = max(1, CALLS_PER_TIMING // n)
            calls = turns * n
            diffs: dict[str, list[float]] = {name: [] for name in names}
            own: dict[str, list[float]] = {name: [] for name in (GATHER, *names)}
            alive = [GATHER, *names]
            for r in range(repeats + 1):  # round 0 warms up
                order = alive[r % len(alive) :] + alive[: r % len(alive)]
                got: dict[str, float] = {}
                for name in order:
                    if name in notes:
                        continue
                    try:
                        got[name] = await timed_turns(runs[name], n, turns)
                    except Exception as exc:
                        if name not in FAN_PEERS:
                            raise
                        notes[name] = f"failed: {exc!r}"[:120]
                if n == FAN_CURVE[0]:
                    a = await timed(one_call, CALLS_PER_TIMING)
                    b = await timed(one_handler, CALLS_PER_TIMING)
                    if r:
                        reference.append((a - b) / CALLS_PER_TIMING * 1e6)
                if not r or GATHER not in got:
                    continue
                for name, t in got.items():
                    own[name].append(t / calls * 1e6)
                    if name != GATHER:
                        diffs[name].append((t - got[GATHER]) / calls * 1e6)
            for name in names:
                d = diffs[name] if name not in notes else []
                overhead[name].append(statistics.median(d) if d else None)
            for name in (GATHER, *names):
                o = own[name] if name not in notes else []
                per_call_us[name].append(statistics.median(o) if o else None)

    gc.collect()
    gc.freeze()
    try:
        asyncio.run(rounds())
    finally:
        gc.unfreeze()
    ref = statistics.median(reference)
    return {
        "overhead_us": overhead,
        "per_call_us": per_call_us,
        "single_call_overhead_us": ref,
        "ratio": {
            name: [None if v is None else v / ref for v in values]
            for name, values in overhead.items()
        },
        "notes": notes,
        "repeats": repeats,
    }


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(__doc__ or "", argv)
    figures: dict[str, Any] = {}

    # 1. overhead -------------------------------------------------------------------------
    m = settings
    rows = [
        row("bare validated call", measure(bare(False), settings=m)),
        row("executor, no policy", measure(ours(None, False), settings=m)),
        row("executor, full stack", measure(ours(FULL, False), settings=m), ours=True),
        row("bare validated call (unique args)", measure(bare(True), settings=m)),
        row("executor, full stack + cache miss", measure(ours(FULL_CACHE, True), settings=m)),
    ]
    print_table("Policy-stack overhead (memory backend)", rows)
    med = {r.name: r.median_us or 0.0 for r in rows}
    overhead = {
        "no_policy_us": med["executor, no policy"] - med["bare validated call"],
        "full_stack_us": med["executor, full stack"] - med["bare validated call"],
        "full_stack_cache_miss_us": med["executor, full stack + cache miss"]
        - med["bare validated call (unique args)"],
    }
    print("overhead over the bare call (target <= 10 µs):")
    for k, v in overhead.items():
        print(f"  {k:28} {v:7.2f} µs")
    figures["overhead_rows"] = rows
    figures["overhead_us"] = overhead

    # 2. Redis ----------------------------------------------------------------------------
    try:
        import redis  # noqa: F401
    except ImportError:
        print("\nRedis backend: skipped (redis-py is not installed in this interpreter)")
    else:
        server = start_redis()
        if server is None:
            print("\nRedis backend: skipped (redis-server not found)")
        else:
            proc, port = server
            try:
                n = 500 if settings.quick else 3000
                costs = asyncio.run(redis_costs(f"redis://127.0.0.1:{port}/0", n))
            finally:
                proc.terminate()
                proc.wait(10)
            print("\nRedis backend (private redis-server, loopback): round trips per call")
            print(
                f"{'policy':36}{'critical':>9}{'behind':>8}{'µs/call':>9}{'client CPU µs':>15}"
                f"{'server CPU µs':>15}"
            )
            for label, c in costs.items():
                print(
                    f"{label:36}{c['critical_trips_per_call']:9.2f}"
                    f"{c['behind_trips_per_call']:8.2f}{c['us_per_call']:9.1f}"
                    f"{c['client_cpu_us_per_call']:15.1f}{c['server_cpu_us_per_call']:15.1f}"
                )
            figures["redis"] = costs

    # 3. fan-out, and the same executors' cost per call ------------------------------------
    fan = fan_out(3 if settings.quick else 5)
    print(
        f"\nFan-out: N calls of a tool sleeping {SLEEP * 1000:.0f} ms in one turn; median wall"
        f" ms of {fan['repeats']} rounds, x bare gather (median of each round's ratio)"
    )
    print(f"{'':46}" + "".join(f"{n:>18,}" for n in FAN_CURVE))
    for name, values in fan["ms"].items():
        cells = [
            f"{v:9.1f} ({r:5.2f}x)" if v is not None and r is not None else "—"
            for v, r in zip(values, fan["ratio"][name], strict=True)
        ]
        line = f"{name:46}" + "".join(f"{c:>18}" for c in cells)
        print(line + (f"  {fan['notes'][name]}" if name in fan["notes"] else ""))
    curve_data = overhead_curve(3 if settings.quick else 7)
    print(
        f"\nPer-call overhead of a turn of N no-op calls over a bare gather (µs; x the single"
        f" box.call overhead of {curve_data['single_call_overhead_us']:.2f} µs)"
    )
    print(f"{'':46}" + "".join(f"{n:>18,}" for n in FAN_CURVE))
    for name, values in curve_data["overhead_us"].items():
        cells = [
            f"{v:9.2f} ({r:5.2f}x)" if v is not None and r is not None else "—"
            for v, r in zip(values, curve_data["ratio"][name], strict=True)
        ]
        note = curve_data["notes"].get(name, "")
        print(f"{name:46}" + "".join(f"{c:>18}" for c in cells) + (f"  {note}" if note else ""))
    figures["fanout"] = fan
    figures["overhead_curve"] = curve_data
    report(
        settings,
        payload(
            "bench_runtime",
            title="The runtime: policy-stack overhead, Redis round trips, fan-out",
            settings=settings,
            results=_results(figures),
            curves=_curves(fan, curve_data),
            # the fan-out's and the overhead curve's figures are in their curves' tables
            extra={k: v for k, v in figures.items() if k not in ("fanout", "overhead_curve")},
        ),
    )


def _results(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows judged against the issues' targets (schema: benchmarks/README.md)."""
    overhead = figures["overhead_us"]
    out = [
        result(
            "policy-stack overhead over a bare validated call "
            "(timeout + retry + breaker + concurrency), through Toolbox.call",
            ours=overhead["full_stack_us"],
            unit="µs",
            target="<= 10 µs",
            met=overhead["full_stack_us"] <= 10,
        ),
        result(
            "same stack with a cache miss",
            ours=overhead["full_stack_cache_miss_us"],
            unit="µs",
            target="<= 10 µs",
            met=overhead["full_stack_cache_miss_us"] <= 10,
        ),
        result(
            "no policy: Toolbox.call over a bare validated call",
            ours=overhead["no_policy_us"],
            unit="µs",
            note="the runtime around a call of a tool without policies (ToolResult, metrics)",
        ),
    ]
    for label, cost in figures.get("redis", {}).items():
        trips = cost["critical_trips_per_call"]
        out.append(
            result(
                f"Redis, {label}: round trips on the critical path",
                ours=trips,
                unit="trips",
                target="<= 1 for any combination",
                met=trips <= 1.0,
                note=f"{cost['behind_trips_per_call']:.2f} more behind the answer (after-call "
                f"writes); {cost['us_per_call']:.0f} µs per call back to back, client CPU "
                f"{cost['client_cpu_us_per_call']:.0f} µs",
            )
        )
    fan = figures["fanout"]
    at = FAN_CURVE.index(FAN)
    ratio = fan["ratio"][OURS][at]
    out.append(
        result(
            f"fan-out: {FAN:,} calls of a {SLEEP * 1000:.0f} ms async tool, default Executor",
            ours=fan["ms"][OURS][at],
            unit="ms",
            floor=fan["ms"][GATHER][at],
            ratio=ratio,
            peers={name: fan["ms"][name][at] for name in FAN_PEERS},
            peer_notes={
                name: fan["notes"].get(name) or f"{fan['ratio'][name][at] or 0:.2f}x bare gather"
                for name in FAN_PEERS
            },
            target=f"<= {TARGET_FAN:g}x a bare asyncio.gather",
            met=None if ratio is None else ratio <= TARGET_FAN,
            note=f"ratios: median of {fan['repeats']} rounds' own ratios; max_concurrency=256:"
            f" {fan['ratio'][OURS_256][at] or 0:.2f}x",
        )
    )
    curve_data = figures["overhead_curve"]
    ref = curve_data["single_call_overhead_us"]
    for i, n in enumerate(FAN_CURVE):
        ours_r = curve_data["ratio"][OURS][i]
        peers = {
            name: (curve_data["overhead_us"].get(name) or [None] * len(FAN_CURVE))[i]
            for name in FAN_PEERS
        }
        out.append(
            result(
                f"box.run of N = {n:,} no-op calls: per-call overhead over a bare gather",
                ours=curve_data["overhead_us"][OURS][i],
                unit="µs",
                ratio=ours_r,
                peers=peers,
                peer_notes={k: v for k, v in curve_data["notes"].items() if k in FAN_PEERS},
                target=f"<= {TARGET_OVERHEAD:g}x the single box.call overhead ({ref:.2f} µs)",
                met=None if ours_r is None else ours_r <= TARGET_OVERHEAD,
                note="ratio: overhead per call / one box.call's overhead over its handler"
                + ("; N = 1 runs without a task (a gather of one makes one)" if n == 1 else ""),
            )
        )
    return out


def _curves(fan: dict[str, Any], curve_data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ratios = {k: v for k, v in fan["ratio"].items() if k != GATHER and any(v)}
    top = max((r for rs in ratios.values() for r in rs if r is not None), default=1.0)
    log_y = top > 4  # a peer far above keeps toolwire's line readable
    per_call = {k: v for k, v in curve_data["overhead_us"].items() if any(v)}
    top_call = max((v for vs in per_call.values() for v in vs if v is not None), default=1.0)
    return {
        "fan_out": curve(
            title=f"N calls of a {SLEEP * 1000:.0f} ms async tool in one turn, vs bare gather",
            x=FAN_CURVE,
            x_label="calls in one turn (N)",
            y_label="wall time / bare asyncio.gather" + (" (log)" if log_y else ""),
            series=ratios,
            log_x=True,
            log_y=log_y,
            target=(TARGET_FAN, f"target at {FAN:,}: <= {TARGET_FAN:g}x"),
        ),
        "fan_out_ms": curve(
            title=f"N calls of a {SLEEP * 1000:.0f} ms async tool in one turn: wall time",
            x=FAN_CURVE,
            x_label="calls in one turn (N)",
            y_label="wall ms (median)",
            series={k: v for k, v in fan["ms"].items() if any(v)},
            log_x=True,
            log_y=log_y,
            reference=[GATHER],
        ),
        "overhead_per_call": curve(
            title="Per-call overhead of a turn of N no-op calls over a bare gather",
            x=FAN_CURVE,
            x_label="calls in one turn (N)",
            y_label="µs per call" + (" (log)" if top_call > 40 else ""),
            series=per_call,
            log_x=True,
            log_y=top_call > 40,
            target=(
                TARGET_OVERHEAD * curve_data["single_call_overhead_us"],
                f"target: <= {TARGET_OVERHEAD:g}x one box.call's overhead",
            ),
        ),
    }


if __name__ == "__main__":
    main()
