"""One tool call end to end: JSON text -> validated -> async handler -> result serialized.

The seed's ``get_weather`` with ``{"location": "北京"}``, median µs per call. The headline row
is ``Toolbox.call`` — what users and every transport run: validation, the policy runtime, a
``ToolResult``, metrics (and call records when subscribed). Every row whose path ends with the
tool's Python value serializes it with the floor's own ``orjson.dumps`` (``serialize``), so a
ratio compares the tool-calling paths, not two JSON libraries (the stdlib's ``json.dumps`` of
this one small dict costs about as many instructions as a whole ``Toolbox.call``). Beside it,
rows labelled as what they measure: the lean ``tool.validate`` + handler path (no runtime) and
the floor (orjson + a direct call). Side by side in the same run with the
peers (optional imports; the runner appends the peers venv): openai-agents
``FunctionTool.on_invoke_tool``, pydantic-ai ``ToolManager.handle_call``, langchain-core
``tool.ainvoke(ToolCall)`` and the MCP SDK's in-process ``Client(MCPServer).call_tool``. The
contenders run in rounds, in a rotating order, and each ratio is the median of its rounds' own
ratios (A/B alternation: load on a shared machine lands on both sides). Also: 10,000 registered
tools (RSS, export time to ``openai``) and the time of ``import toolwire``.

    python -m benchmarks.bench_validate [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from benchmarks._harness import (
    Row,
    Settings,
    parse_args,
    payload,
    peer_values,
    print_table,
    report,
    result,
    row,
)
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool
from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA, SEED_WEATHER_ARGUMENTS

ARGS = SEED_WEATHER_ARGUMENTS
# One serializer for every row whose path ends with a Python value (the floor's).
serialize = orjson.dumps
Bench = Callable[[], Awaitable[Any]]


async def get_weather(location: str) -> dict[str, Any]:
    """获取指定城市的天气信息

    Args:
        location: 城市名称
    """
    return {"location": location, "temp": 25, "humidity": 60}


# ----------------------------------------------------------------------------- ours


def ours_lean() -> Bench:
    """Validate with the tool's compiled validator, await the handler, serialize the value."""
    tool = Tool.from_schema(SEED_GET_WEATHER_SCHEMA, get_weather)
    validate, handler = tool.validate, tool.handler
    assert handler is not None

    async def call() -> str:
        return serialize(await handler(**validate(ARGS)))

    return call


def ours_decorated() -> Bench:
    from toolwire._tools import tool

    typed = tool(get_weather)
    validate, handler = typed.validate, typed.handler
    assert handler is not None

    async def call() -> str:
        return serialize(await handler(**validate(ARGS)))

    return call


def ours_box_call() -> Bench:
    """The full path every transport uses: Toolbox.call -> runtime -> ToolResult, its value
    serialized (as the floor and the lean rows serialize theirs)."""
    box = Toolbox([Tool.from_schema(SEED_GET_WEATHER_SCHEMA, get_weather)])

    async def call() -> str:
        result = await box.call("get_weather", ARGS)
        return serialize(result.value)

    return call


def floor() -> Bench:
    async def call() -> bytes:
        return serialize(await get_weather(**orjson.loads(ARGS)))

    return call


# ----------------------------------------------------------------------------- peers


def peer_openai_agents() -> Bench:
    from agents import function_tool
    from agents.tool_context import ToolContext

    fn_tool = function_tool(get_weather)
    ctx = ToolContext(context=None, tool_name="get_weather", tool_call_id="c1", tool_arguments=ARGS)

    async def call() -> str:
        out = await fn_tool.on_invoke_tool(ctx, ARGS)
        return out if isinstance(out, str) else serialize(out)

    return call


async def _pydantic_ai_manager() -> Any:
    from pydantic_ai import RunContext
    from pydantic_ai.models.test import TestModel
    from pydantic_ai.tool_manager import ToolManager
    from pydantic_ai.toolsets import FunctionToolset
    from pydantic_ai.usage import RunUsage

    ctx = RunContext(deps=None, model=TestModel(), usage=RunUsage())
    return await ToolManager(FunctionToolset([get_weather])).for_run_step(ctx)


def peer_pydantic_ai() -> Bench:
    from pydantic_ai.messages import ToolCallPart

    manager = asyncio.run(_pydantic_ai_manager())

    async def call() -> str:
        part = ToolCallPart(tool_name="get_weather", args=ARGS, tool_call_id="c1")
        out = await manager.handle_call(part)
        return serialize(out)

    return call


def peer_langchain() -> Bench:
    from langchain_core.tools import tool as lc_tool

    lc = lc_tool(get_weather)

    async def call() -> Any:
        message = await lc.ainvoke(
            {"name": "get_weather", "args": json.loads(ARGS), "id": "c1", "type": "tool_call"}
        )
        return message.content

    return call


def peer_mcp() -> Bench:
    # An in-process client session must live inside the loop that measures it: the bench
    # opens it lazily on first call and keeps it for the rest of that loop.
    from mcp.client.client import Client
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("bench")
    server.tool()(get_weather)
    state: dict[str, Any] = {}

    async def call() -> str:
        loop = asyncio.get_running_loop()
        if state.get("loop") is not loop:
            client = Client(server)
            await client.__aenter__()  # closed when the loop ends
            state.update(loop=loop, client=client)
        result = await state["client"].call_tool("get_weather", json.loads(ARGS))
        return serialize(result.model_dump(mode="json"))

    return call


PEERS: dict[str, Callable[[], Bench]] = {
    "openai-agents on_invoke_tool": peer_openai_agents,
    "pydantic-ai handle_call": peer_pydantic_ai,
    "langchain-core ainvoke(ToolCall)": peer_langchain,
    "mcp Client(MCPServer).call_tool": peer_mcp,
}

# ----------------------------------------------------------------------------- scale, import

_SCALE_SCRIPT = """
import json, time
t0 = time.perf_counter()
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool
N = N_TOOLS
def rss_mb(field="VmRSS:"):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
before = rss_mb()
box = Toolbox(Tool.from_schema({
    "name": f"pkg{i % 97}.tool_{i}",
    "description": f"第 {i} 个工具: 获取指定城市的天气信息",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string", "description": "城市名称"},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["location"]}}) for i in range(N))
t1 = time.perf_counter()
registered = rss_mb()
times = []
for _ in range(3):
    s = time.perf_counter(); out = box.export("openai"); times.append(time.perf_counter() - s)
assert len(out) == N
print(json.dumps({"tools": N, "register_s": t1 - t0, "rss_before_mb": before,
    "rss_registered_mb": registered, "rss_after_export_mb": rss_mb(),
    "peak_rss_mb": rss_mb("VmHWM:"),
    "export_openai_s": min(times)}))
"""

# wall and CPU time of the import: on a loaded machine the wall time includes waiting for a
# core, which the process's own CPU time does not
_IMPORT_SCRIPT = (
    "import time; t = time.perf_counter(); c = time.process_time(); import toolwire; "
    "print(time.perf_counter() - t, time.process_time() - c)"
)


def scale(n: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _SCALE_SCRIPT.replace("N_TOOLS", str(n))],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def import_time(runs: int) -> tuple[float, float]:
    # one import with bytecode writing on first, so every timed import reads cached .pyc files
    # as an installed package does (PYTHONDONTWRITEBYTECODE would time the compiler instead)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import toolwire"], env=env, check=True)
    walls, cpus = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_SCRIPT], capture_output=True, text=True, check=True
        )
        wall, cpu = out.stdout.split()
        walls.append(float(wall))
        cpus.append(float(cpu))
    return statistics.median(walls), statistics.median(cpus)


# ----------------------------------------------------------------------------- main


def _check(bench: Bench) -> None:
    out = asyncio.run(bench())
    text = out.decode() if isinstance(out, bytes) else str(out)
    if "北京" not in text and "\\u5317" not in text:
        raise AssertionError(f"unexpected result: {text[:200]}")


BOX_CALL = "toolwire Toolbox.call (validation, runtime, ToolResult, metrics)"
LEAN = "lean: tool.validate + handler, no runtime (Tool.from_schema)"
LEAN_TYPED = "lean: tool.validate + handler, no runtime (@tool typed function)"
FLOOR = "floor: orjson + direct call"
AGENTS = "openai-agents on_invoke_tool"


def rounds(benches: dict[str, Bench], settings: Settings) -> dict[str, Row]:
    """Median µs per call of each bench, every one run once per round in a rotating order.

    Each round times a calibrated batch of calls per bench in one event loop; the medians of
    the rounds are the figures, so a burst of load elsewhere costs one round, not one bench.
    """
    names = list(benches)
    budget = 0.02 if settings.quick else 0.08
    repeats = 5 if settings.quick else 15

    async def go() -> dict[str, list[float]]:
        sizes: dict[str, int] = {}
        for name, bench in benches.items():  # warm-up and calibration
            n, spent = 1, 0.0
            while spent < budget / 4:
                start = time.perf_counter()
                for _ in range(n):
                    await bench()
                spent = time.perf_counter() - start
                n *= 2
            sizes[name] = max(1, int(n / 2 * budget / max(spent, 1e-9)))
        per: dict[str, list[float]] = {name: [] for name in names}
        for r in range(repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                bench, n = benches[name], sizes[name]
                start = time.perf_counter()
                for _ in range(n):
                    await bench()
                per[name].append((time.perf_counter() - start) / n * 1e6)
        return per

    gc.collect()
    per = asyncio.run(go())
    return {name: row(name, runs) for name, runs in per.items()}


def ratio_of(rows: dict[str, Row], a: str, b: str) -> float | None:
    """The median of the rounds' own ratios a / b."""
    ra, rb = rows[a].runs_us, rows[b].runs_us
    if not ra or not rb:
        return None
    return statistics.median(x / y for x, y in zip(ra, rb, strict=True))


def run(settings: Settings) -> dict[str, Any]:
    benches: dict[str, Bench] = {
        BOX_CALL: ours_box_call(),
        LEAN: ours_lean(),
        LEAN_TYPED: ours_decorated(),
        FLOOR: floor(),
    }
    skipped: dict[str, str] = {}
    for name, make in PEERS.items():
        try:
            bench = make()
        except ImportError as exc:
            skipped[name] = f"not installed ({exc.name})"
            continue
        benches[name] = bench
    for bench in benches.values():
        _check(bench)
    measured = rounds(benches, settings)
    rows = [measured[n] for n in (BOX_CALL, LEAN, LEAN_TYPED, FLOOR)]
    rows[0] = Row(name=BOX_CALL, median_us=rows[0].median_us, runs_us=rows[0].runs_us, ours=True)
    for name in PEERS:
        rows.append(
            measured[name]
            if name in measured
            else Row(name=name, median_us=None, note=skipped[name])
        )
    print_table("get_weather('北京'): JSON text -> validate -> async handler -> JSON", rows)
    ratios = {
        "box_call_vs_floor": ratio_of(measured, BOX_CALL, FLOOR),
        "lean_vs_floor": ratio_of(measured, LEAN, FLOOR),
        "openai_agents_vs_box_call": (
            ratio_of(measured, AGENTS, BOX_CALL) if AGENTS in measured else None
        ),
    }
    print(
        "ratios (median of each round's own): "
        + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items() if v is not None)
    )

    n = 2_000 if settings.quick else 10_000
    sc = scale(n)
    imp, imp_cpu = import_time(3 if settings.quick else 9)
    print(
        f"\n{n} tools: registered in {sc['register_s']:.2f} s,"
        f" RSS {sc['rss_registered_mb']:.0f} MB (peak {sc['peak_rss_mb']:.0f} MB),"
        f" export to openai {sc['export_openai_s'] * 1e3:.0f} ms"
    )
    print(
        f"import toolwire: {imp * 1e3:.0f} ms wall, {imp_cpu * 1e3:.0f} ms CPU (medians),"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    return {
        "rows": rows,
        "ratios": ratios,
        "scale": sc,
        "import_s": imp,
        "import_cpu_s": imp_cpu,
        "tools": n,
    }


# Targets of issue 21 (Toolbox.call) and issue 2 (scale, export).
TARGET_VS_FLOOR = 3.0
TARGET_VS_AGENTS = 3.0
TARGET_RSS_MB = 100.0
TARGET_EXPORT_S = 1.0
TARGET_IMPORT_MS = 60.0
FULL_TOOLS = 10_000


def results(settings: Settings, measured: dict[str, Any]) -> dict[str, Any]:
    """The schema of benchmarks/README.md, from what ``run`` measured."""
    rows: list[Row] = measured["rows"]
    box_call, lean, decorated, floor_row = rows[:4]
    peers, notes = peer_values(rows[4:])
    ratios = measured["ratios"]
    floor_us = floor_row.median_us
    sc, n = measured["scale"], measured["tools"]
    at_full = n == FULL_TOOLS  # a --quick run registers fewer tools: not judged
    import_ms = measured["import_s"] * 1e3
    import_cpu_ms = measured["import_cpu_s"] * 1e3
    vs_floor = ratios["box_call_vs_floor"]
    vs_agents = ratios["openai_agents_vs_box_call"]
    per_call = "get_weather('北京'): JSON text -> validate -> async handler -> JSON"
    out = [
        result(
            f"{per_call}: Toolbox.call (what users and transports run)",
            ours=box_call.median_us,
            unit="µs",
            floor=floor_us,
            ratio=vs_floor,
            peers=peers,
            peer_notes=notes,
            target=f"<= {TARGET_VS_FLOOR:g}x the floor (orjson + a direct call)",
            met=None if vs_floor is None else vs_floor <= TARGET_VS_FLOOR,
            note="validation, the ToolResult, metrics, call records when subscribed; ratio: "
            "median of each round's own Toolbox.call / floor",
        ),
        result(
            "Toolbox.call speed-up over openai-agents' bare on_invoke_tool",
            ours=vs_agents,
            unit="x",
            better="higher",
            ratio=vs_agents,
            target=f">= {TARGET_VS_AGENTS:g}x faster, same run",
            met=None if vs_agents is None else vs_agents >= TARGET_VS_AGENTS,
            note="" if vs_agents is not None else "openai-agents not installed: not judged",
        ),
        result(
            f"{per_call}: lean tool.validate + handler, no runtime (Tool.from_schema)",
            ours=lean.median_us,
            unit="µs",
            floor=floor_us,
            ratio=ratios["lean_vs_floor"],
            note="not a path users take: what validation and the handler cost alone",
        ),
        result(
            f"{per_call}: lean tool.validate + handler, no runtime (@tool typed function)",
            ours=decorated.median_us,
            unit="µs",
            floor=floor_us,
        ),
        result(
            f"{n:,} registered tools: RSS",
            ours=sc["rss_registered_mb"],
            unit="MB",
            target=f"<= {TARGET_RSS_MB:g} MB at {FULL_TOOLS:,} tools",
            met=sc["rss_registered_mb"] <= TARGET_RSS_MB if at_full else None,
            note=f"peak {sc['peak_rss_mb']:.0f} MB; registered in {sc['register_s']:.2f} s",
        ),
        result(
            f"export {n:,} tools to openai",
            ours=sc["export_openai_s"],
            unit="s",
            target=f"<= {TARGET_EXPORT_S:g} s at {FULL_TOOLS:,} tools",
            met=sc["export_openai_s"] <= TARGET_EXPORT_S if at_full else None,
        ),
        result(
            "import toolwire (median of fresh interpreters, wall, bytecode cached)",
            ours=import_ms,
            unit="ms",
            target=f"<= {TARGET_IMPORT_MS:g} ms",
            met=import_ms <= TARGET_IMPORT_MS,
            note=f"CPU time of the same imports {import_cpu_ms:.0f} ms (median): the wall time "
            "on a loaded machine includes waiting for a core",
        ),
        result(
            "import toolwire (median of fresh interpreters, CPU time, bytecode cached)",
            ours=import_cpu_ms,
            unit="ms",
            target=f"<= {TARGET_IMPORT_MS:g} ms",
            met=import_cpu_ms <= TARGET_IMPORT_MS,
            note="the process's own CPU time: what the import costs, without the wait for a "
            "core that a shared machine adds to the wall time",
        ),
    ]
    return payload(
        "bench_validate",
        title="One tool call end to end: JSON text -> validated -> async handler -> JSON",
        settings=settings,
        results=out,
        extra={"scale": sc, "ratios": ratios},
    )


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(__doc__ or "", argv)
    report(settings, results(settings, run(settings)))


if __name__ == "__main__":
    main()
