"""The runtime's cost: policy-stack overhead per call, Redis round trips, and fan-out.

1. Overhead of the full default stack (timeout + retry + breaker + concurrency; and with a
   cache miss) over a bare validated call (``tool.validate`` + ``await handler``): median µs.
2. The same stack on the Redis backend (a private redis-server on an ephemeral port): µs per
   call and Redis commands per call for each policy.
3. Fan-out: N = 1 -> 1,000 calls of an async tool that sleeps 50 ms in one turn, through
   ``box.run``: wall time vs a bare ``asyncio.gather`` (target <= 1.15x at 1,000), side by
   side with each peer's own executor for a turn's calls: openai-agents (``on_invoke_tool``),
   pydantic-ai (``ToolManager.handle_call``) and langgraph (prebuilt ``ToolNode`` given an
   ``AIMessage`` with N ``tool_calls``, in a one-node ``StateGraph``), when they are importable
   (the runner appends the peers venv; alone, run with ``.venv-peers/bin/python``). The same
   executors with N = 1 and a tool returning at once give each one's cost per call.

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
    Row,
    Settings,
    curve,
    measure,
    parse_args,
    payload,
    peer_values,
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
    ex = Executor(backend=backend)
    box = Toolbox([make_tool(policy)], runtime=ex)
    counter = itertools.count()

    async def call() -> Any:
        args = f'{{"city": "Oslo", "n": {next(counter)}}}' if unique else '{"city": "Oslo"}'
        res = await ex.call(box, ToolCall(id="c", name="lookup", arguments=args))
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


async def redis_costs(url: str, n: int) -> dict[str, dict[str, float]]:
    """µs per call and Redis round trips per call (each one command or one Lua script)."""
    from toolwire.state.redis import RedisBackend

    configs = {
        "breaker": (Policy(breaker=Breaker()), True, None),
        "rate limit": (Policy(rate_limit=RateLimit(rate=1e9)), True, None),
        "cache hit": (Policy(cache=Cache()), False, None),
        "cache miss": (Policy(cache=Cache()), True, None),
        "idempotency key (new)": (Policy(), True, "new"),
        "rate limit + breaker": (RATE_BREAKER, True, None),
        "full stack + cache miss": (FULL_CACHE, True, None),
        "full stack + cache hit": (FULL_CACHE, False, None),
        "everything, cache miss + idem key": (EVERYTHING, True, "new"),
    }
    out: dict[str, dict[str, float]] = {}
    for label, (policy, unique, idem) in configs.items():
        backend = RedisBackend(url, prefix=f"bench:{label}:")
        trips = [0]
        real_call = backend._call

        async def counted(*args: Any, _real: Any = real_call, _t: list[int] = trips,
                          **kwargs: Any) -> Any:  # fmt: skip
            _t[0] += 1
            return await _real(*args, **kwargs)

        backend._call = counted  # type: ignore[method-assign]
        ex = Executor(backend=backend)
        box = Toolbox([make_tool(policy)], runtime=ex)
        counter = itertools.count()

        async def one(ex: Executor = ex, box: Toolbox = box, unique: bool = unique,
                      idem: str | None = idem, counter: Any = counter) -> None:  # fmt: skip
            i = next(counter)
            args = f'{{"city": "Oslo", "n": {i}}}' if unique else '{"city": "Oslo"}'
            key = f"k{i}" if idem else None
            res = await ex.call(
                box, ToolCall(id="c", name="lookup", arguments=args), idempotency_key=key
            )
            assert res.ok, res

        for _ in range(50):
            await one()
        trips[0] = 0
        server_cpu = await _server_cpu(backend.client)
        cpu = time.process_time()
        start = time.perf_counter()
        for _ in range(n):
            await one()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        server_cpu = await _server_cpu(backend.client) - server_cpu
        out[label] = {
            "us_per_call": elapsed / n * 1e6,
            "round_trips_per_call": trips[0] / n,
            # CPU time is immune to the other jobs on the machine; wall time is not
            "client_cpu_us_per_call": cpu / n * 1e6,
            "server_cpu_us_per_call": server_cpu / n * 1e6,
        }
        await backend.client.flushall()
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
TARGET_FAN = 1.15  # issue 3: 1,000 calls within 1.15x a bare gather

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


def executor_per_call(settings: Settings) -> list[Row]:
    """µs per call: the fan-out paths with N = 1 and a tool that returns at once."""
    rows: list[Row] = []
    for name, make in contenders(noop).items():
        if name in (GATHER, OURS_256):
            continue
        try:
            go = make()
        except ImportError as exc:
            rows.append(Row(name=name, median_us=None, note=f"not installed ({exc.name})"))
            continue

        async def once(go: Fan = go) -> None:
            await go(1)

        try:
            rows.append(row(name, measure(once, settings=settings), ours=name == OURS))
        except Exception as exc:  # a peer's API moved: report it, keep the others
            if name not in FAN_PEERS:
                raise
            rows.append(Row(name=name, median_us=None, note=f"failed: {exc!r}"[:120]))
    if any(r.name == PEER_LANGGRAPH and r.median_us is not None for r in rows):
        rows.append(
            row(
                "  of which langgraph's one-node graph alone (a node doing nothing)",
                measure(langgraph_graph_alone(), settings=settings),
            )
        )
    return rows


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
            print("\nRedis backend (private redis-server, loopback)")
            print(
                f"{'policy':36}{'µs/call':>9}{'trips/call':>12}{'client CPU µs':>15}"
                f"{'server CPU µs':>15}"
            )
            for label, c in costs.items():
                print(
                    f"{label:36}{c['us_per_call']:9.1f}{c['round_trips_per_call']:12.2f}"
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
    per_call = executor_per_call(settings)
    print_table("One call of a no-op async tool through each executor (a turn of N = 1)", per_call)
    figures["fanout"] = fan
    figures["per_call"] = per_call
    report(
        settings,
        payload(
            "bench_runtime",
            title="The runtime: policy-stack overhead, Redis round trips, fan-out",
            settings=settings,
            results=_results(figures),
            curves=_curves(fan),
            # the fan-out's figures are in its curves' tables, the per-call ones in a result row
            extra={k: v for k, v in figures.items() if k not in ("fanout", "per_call")},
        ),
    )


# how many policies keep state in Redis in each case (breaker, cache, rate limit, idempotency
# and, since it is shared too, concurrency; timeout and retry are per call), for
# "<= 1 round trip per policy"
_POLICIES_IN = {
    "breaker": 1,
    "rate limit": 1,
    "cache hit": 1,
    "cache miss": 1,
    "idempotency key (new)": 1,
    "rate limit + breaker": 2,
    "full stack + cache miss": 3,
    "full stack + cache hit": 3,
    "everything, cache miss + idem key": 5,
}


def _results(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows judged against the Runtime issue's targets (schema: benchmarks/README.md)."""
    overhead = figures["overhead_us"]
    out = [
        result(
            "policy-stack overhead over a bare validated call "
            "(timeout + retry + breaker + concurrency)",
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
    ]
    for label, cost in figures.get("redis", {}).items():
        trips = cost["round_trips_per_call"]
        policies = _POLICIES_IN.get(label)
        out.append(
            result(
                f"Redis backend, {label}: round trips per call",
                ours=trips,
                unit="trips",
                target="<= 1 per policy",
                met=None if policies is None else trips <= policies,
                note=f"{cost['us_per_call']:.0f} µs per call, "
                f"client CPU {cost['client_cpu_us_per_call']:.0f} µs",
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
    rows: list[Row] = figures["per_call"]
    alone = next((r for r in rows if "graph alone" in r.name), None)
    peers, notes = peer_values([r for r in rows if r.name in FAN_PEERS])
    out.append(
        result(
            "one call of a no-op async tool through each executor (a turn of N = 1), per call",
            ours=next(r.median_us for r in rows if r.name == OURS),
            unit="µs",
            peers=peers,
            peer_notes=notes,
            note="the fan-out paths with N = 1 and a tool returning at once"
            + (
                f"; langgraph's one-node graph alone costs {alone.median_us:.0f} µs"
                if alone is not None and alone.median_us is not None
                else ""
            ),
        )
    )
    return out


def _curves(fan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ratios = {k: v for k, v in fan["ratio"].items() if k != GATHER and any(v)}
    top = max((r for rs in ratios.values() for r in rs if r is not None), default=1.0)
    log_y = top > 4  # a peer far above keeps toolwire's line readable
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
    }


if __name__ == "__main__":
    main()
