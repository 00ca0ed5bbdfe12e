"""The runtime's cost: policy-stack overhead per call, Redis round trips, and fan-out.

1. Overhead of the full default stack (timeout + retry + breaker + concurrency; and with a
   cache miss) over a bare validated call (``tool.validate`` + ``await handler``): median µs.
2. The same stack on the Redis backend (a private redis-server on an ephemeral port): µs per
   call and Redis commands per call for each policy.
3. Fan-out: 1,000 calls of an async tool that sleeps 50 ms: wall time vs a bare
   ``asyncio.gather``, side by side with openai-agents (``on_invoke_tool``) and pydantic-ai
   (``ToolManager.handle_call``) when they are importable (run with ``.venv-peers/bin/python``).

    python -m benchmarks.bench_runtime [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._harness import (
    divide,
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

FAN = 1000
SLEEP = 0.05


async def nap(i: int) -> int:
    await asyncio.sleep(SLEEP)
    return i


async def fan_bare() -> None:
    await asyncio.gather(*(nap(i) for i in range(FAN)))


def fan_ours(max_concurrency: int | None) -> Callable[[], Awaitable[None]]:
    ex = Executor() if max_concurrency is None else Executor(max_concurrency=max_concurrency)
    box = Toolbox([tool(nap)], runtime=ex)
    batch = [ToolCall(id=f"c{i}", name="nap", arguments=f'{{"i": {i}}}') for i in range(FAN)]

    async def go() -> None:
        results = await box.run(batch)
        assert all(r.ok for r in results)

    return go


def fan_openai_agents() -> Callable[[], Awaitable[None]]:
    from agents import function_tool
    from agents.tool_context import ToolContext

    fn_tool = function_tool(nap)

    async def go() -> None:
        async def one(i: int) -> Any:
            args = f'{{"i": {i}}}'
            ctx = ToolContext(
                context=None, tool_name="nap", tool_call_id=f"c{i}", tool_arguments=args
            )
            return await fn_tool.on_invoke_tool(ctx, args)

        await asyncio.gather(*(one(i) for i in range(FAN)))

    return go


def fan_pydantic_ai() -> Callable[[], Awaitable[None]]:
    from pydantic_ai import RunContext
    from pydantic_ai.messages import ToolCallPart
    from pydantic_ai.models.test import TestModel
    from pydantic_ai.tool_manager import ToolManager
    from pydantic_ai.toolsets import FunctionToolset
    from pydantic_ai.usage import RunUsage

    async def go() -> None:
        ctx = RunContext(deps=None, model=TestModel(), usage=RunUsage())
        manager = await ToolManager(FunctionToolset([nap])).for_run_step(ctx)
        parts = [
            ToolCallPart(tool_name="nap", args=f'{{"i": {i}}}', tool_call_id=f"c{i}")
            for i in range(FAN)
        ]
        await asyncio.gather(*(manager.handle_call(p) for p in parts))

    return go


def wall(go: Callable[[], Awaitable[None]], repeats: int) -> list[float]:
    async def runs() -> list[float]:
        await go()  # warm-up
        out = []
        for _ in range(repeats):
            start = time.perf_counter()
            await go()
            out.append(time.perf_counter() - start)
        return out

    return asyncio.run(runs())


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

    # 3. fan-out --------------------------------------------------------------------------
    repeats = 3 if settings.quick else 5
    fan: dict[str, Any] = {}
    candidates: dict[str, Callable[[], Callable[[], Awaitable[None]]]] = {
        "bare asyncio.gather": lambda: fan_bare,
        "toolwire box.run (default Executor)": lambda: fan_ours(None),
        "toolwire box.run (max_concurrency=256)": lambda: fan_ours(256),
        "openai-agents on_invoke_tool + gather": fan_openai_agents,
        "pydantic-ai ToolManager.handle_call + gather": fan_pydantic_ai,
    }
    for name, factory in candidates.items():
        try:
            go = factory()
        except ImportError as exc:
            fan[name] = {"skipped": f"not importable: {exc.name}"}
            continue
        fan[name] = {"wall_s": statistics.median(wall(go, repeats))}
    base = fan["bare asyncio.gather"]["wall_s"]
    print(f"\nFan-out: {FAN} calls of a tool sleeping {SLEEP * 1000:.0f} ms (median wall time)")
    for name, v in fan.items():
        if "skipped" in v:
            print(f"  {name:46} skipped ({v['skipped']})")
            continue
        v["vs_bare"] = v["wall_s"] / base
        print(f"  {name:46} {v['wall_s'] * 1000:8.1f} ms  {v['vs_bare']:5.2f}x")
    figures["fanout"] = fan
    report(
        settings,
        payload(
            "bench_runtime",
            title="The runtime: policy-stack overhead, Redis round trips, fan-out",
            settings=settings,
            results=_results(figures),
            extra=figures,
        ),
    )


# how many policies keep state in Redis in each case (breaker, cache, rate limit, idempotency;
# timeout, retry and concurrency are per process), for "<= 1 round trip per policy"
_POLICIES_IN = {
    "breaker": 1,
    "rate limit": 1,
    "cache hit": 1,
    "cache miss": 1,
    "idempotency key (new)": 1,
    "rate limit + breaker": 2,
    "full stack + cache miss": 2,
    "full stack + cache hit": 2,
    "everything, cache miss + idem key": 4,
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
    bare_s = fan["bare asyncio.gather"]["wall_s"]
    ours_s = fan["toolwire box.run (default Executor)"]["wall_s"]
    peers = {
        name: (None if "skipped" in v else v["wall_s"] * 1000)
        for name, v in fan.items()
        if not name.startswith(("bare", "toolwire"))
    }
    ratio = divide(ours_s, bare_s)
    out.append(
        result(
            f"fan-out: {FAN} calls of a {SLEEP * 1000:.0f} ms async tool, default Executor",
            ours=ours_s * 1000,
            unit="ms",
            floor=bare_s * 1000,
            ratio=ratio,
            peers=peers,
            target="<= 1.15x a bare asyncio.gather",
            met=None if ratio is None else ratio <= 1.15,
        )
    )
    return out


if __name__ == "__main__":
    main()
