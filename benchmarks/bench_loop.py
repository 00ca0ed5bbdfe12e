"""The model <-> tool loop: overhead per step, and 1,000 concurrent calls through the loop.

1. Overhead: a scripted model makes one call to a no-op async tool, then answers (2 steps).
   Side by side: pydantic-ai ``Agent.run`` + ``FunctionModel`` and openai-agents
   ``Runner.run`` + a fake model doing the same. Target: <= 100 µs per step for toolwire.
2. Fan-out: a scripted model emits 1,000 calls of a 50 ms async tool in one turn; the whole
   run vs a bare ``asyncio.gather`` of the same 1,000 coroutines. Target: <= 1.15x. The same
   for 1, 10 and 100 calls (the scaling curve), with pydantic-ai ``Agent.run`` and
   openai-agents ``Runner.run`` emitting the same calls when they are importable.
3. Native clients: the same two steps (a call, then the answer) with each model client against
   a local server speaking its provider's wire format (``benchmarks/_wire_loop.py``, in its own
   process): Anthropic, Gemini and OpenAIResponses, whole and streamed, vs OpenAICompatible
   on Chat Completions and vs pydantic-ai's client for the same provider, in alternating rounds.

Peers are measured in ``.venv-peers`` (a subprocess running this file with ``--peers``)
when they are not importable here. ``--json`` prints one JSON object last.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# ``python benchmarks/bench_loop.py`` (and the peers subprocess below) import the harness as
# a package module, like ``python -m benchmarks.bench_loop`` does.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _wire_loop
from benchmarks._harness import (
    Row,
    Settings,
    curve,
    divide,
    measure,
    parse_args,
    payload,
    peer_values,
    print_table,
    report,
    result,
    row,
)

PEERS_PYTHON = Path(__file__).resolve().parent.parent / ".venv-peers" / "bin" / "python"
SLOW_S = 0.05
FAN_OUT = 1000
FAN_OUT_CURVE = (1, 10, 100, FAN_OUT)


# ----------------------------------------------------------------------------- toolwire


def ours_run() -> Any:
    from toolwire._toolbox import Toolbox
    from toolwire._tools import Tool
    from toolwire.models import Scripted
    from toolwire.runner import Runner

    async def get_weather(location: str) -> dict[str, Any]:
        return {"temp": 25}

    schema = {
        "name": "get_weather",
        "description": "获取指定城市的天气信息",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    }
    box = Toolbox([Tool.from_schema(schema, handler=get_weather)])
    model = Scripted([("get_weather", {"location": "北京"}), "25"] * 10_000_000)
    runner = Runner(model=model, tools=box)

    async def bench() -> Any:
        result = await runner.run("北京今天气温如何?")
        assert result.ok
        return result

    return bench


def ours_box_run() -> Any:
    from toolwire._calls import ToolCall
    from toolwire._toolbox import Toolbox
    from toolwire._tools import Tool

    async def get_weather(location: str) -> dict[str, Any]:
        return {"temp": 25}

    schema = {
        "name": "get_weather",
        "description": "d",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    }
    box = Toolbox([Tool.from_schema(schema, handler=get_weather)])
    calls = [ToolCall(id="c1", name="get_weather", arguments='{"location": "北京"}')]

    async def bench() -> Any:
        return await box.run(calls)

    return bench


async def fan_out_ours(count: int = FAN_OUT) -> float:
    from toolwire._calls import ToolCall
    from toolwire._toolbox import Toolbox
    from toolwire._tools import Tool
    from toolwire.models import Scripted
    from toolwire.runner import Runner

    async def slow(n: int) -> int:
        await asyncio.sleep(SLOW_S)
        return n

    schema = {
        "name": "slow",
        "description": "sleeps 50 ms",
        "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
    }
    box = Toolbox([Tool.from_schema(schema, handler=slow)])
    calls = [ToolCall(id=f"c{i}", name="slow", arguments=f'{{"n": {i}}}') for i in range(count)]
    runner = Runner(model=Scripted([calls, "done"]), tools=box)
    start = time.perf_counter()
    result = await runner.run("go")
    elapsed = time.perf_counter() - start
    assert result.ok and len(result.results) == count and all(r.ok for r in result.results)
    return elapsed


async def fan_out_box(count: int = FAN_OUT) -> float:
    """The same 1,000 calls through ``box.run`` alone (the runtime, no loop)."""
    from toolwire._calls import ToolCall
    from toolwire._toolbox import Toolbox
    from toolwire._tools import Tool

    async def slow(n: int) -> int:
        await asyncio.sleep(SLOW_S)
        return n

    schema = {
        "name": "slow",
        "description": "sleeps 50 ms",
        "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
    }
    box = Toolbox([Tool.from_schema(schema, handler=slow)])
    calls = [ToolCall(id=f"c{i}", name="slow", arguments=f'{{"n": {i}}}') for i in range(count)]
    start = time.perf_counter()
    await box.run(calls)
    return time.perf_counter() - start


async def fan_out_gather(count: int = FAN_OUT) -> float:
    async def slow(n: int) -> int:
        await asyncio.sleep(SLOW_S)
        return n

    start = time.perf_counter()
    await asyncio.gather(*(slow(i) for i in range(count)))
    return time.perf_counter() - start


# ----------------------------------------------------------------------------- peers


def peer_pydantic_ai() -> Any:
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def model_fn(messages: list[Any], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            return ModelResponse(parts=[ToolCallPart("get_weather", {"location": "北京"})])
        return ModelResponse(parts=[TextPart("25")])

    agent = Agent(FunctionModel(model_fn))

    @agent.tool_plain
    async def get_weather(location: str) -> dict[str, Any]:
        return {"temp": 25}

    async def bench() -> Any:
        result = await agent.run("北京今天气温如何?")
        assert result.output == "25"
        return result

    return bench


def peer_openai_agents() -> Any:
    from agents import Agent, Runner, function_tool
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    class FakeModel(Model):
        async def get_response(self, system_instructions: Any, input: Any, *a: Any, **k: Any):
            items = input if isinstance(input, list) else []
            if not any(_item_type(i) == "function_call_output" for i in items):
                call = ResponseFunctionToolCall(
                    type="function_call",
                    call_id="c1",
                    name="get_weather",
                    arguments='{"location": "北京"}',
                )
                return ModelResponse(output=[call], usage=Usage(), response_id=None)
            text = ResponseOutputText(type="output_text", text="25", annotations=[])
            msg = ResponseOutputMessage(
                id="m1", type="message", role="assistant", status="completed", content=[text]
            )
            return ModelResponse(output=[msg], usage=Usage(), response_id=None)

        def stream_response(self, *a: Any, **k: Any) -> Any:
            raise NotImplementedError

    @function_tool
    async def get_weather(location: str) -> str:
        return '{"temp": 25}'

    agent = Agent(name="a", model=FakeModel(), tools=[get_weather])

    async def bench() -> Any:
        result = await Runner.run(agent, "北京今天气温如何?")
        assert result.final_output == "25"
        return result

    return bench


def _item_type(item: Any) -> str | None:
    if isinstance(item, dict):
        return item.get("type")
    return getattr(item, "type", None)


async def fan_out_pydantic_ai(count: int = FAN_OUT) -> float:
    """pydantic-ai ``Agent.run``: a ``FunctionModel`` emits ``count`` calls in one response."""
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    def model_fn(messages: list[Any], info: AgentInfo) -> ModelResponse:
        if len(messages) == 1:
            parts = [ToolCallPart("slow", {"n": i}, tool_call_id=f"c{i}") for i in range(count)]
            return ModelResponse(parts=list(parts))
        return ModelResponse(parts=[TextPart("done")])

    agent = Agent(FunctionModel(model_fn))

    @agent.tool_plain
    async def slow(n: int) -> int:
        await asyncio.sleep(SLOW_S)
        return n

    start = time.perf_counter()
    result = await agent.run("go")
    elapsed = time.perf_counter() - start
    assert result.output == "done"
    return elapsed


async def fan_out_openai_agents(count: int = FAN_OUT) -> float:
    """openai-agents ``Runner.run``: a fake model emits ``count`` function calls at once."""
    from agents import Agent, Runner, function_tool
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    class FakeModel(Model):
        async def get_response(self, system_instructions: Any, input: Any, *a: Any, **k: Any):
            items = input if isinstance(input, list) else []
            if not any(_item_type(i) == "function_call_output" for i in items):
                calls = [
                    ResponseFunctionToolCall(
                        type="function_call",
                        call_id=f"c{i}",
                        name="slow",
                        arguments=f'{{"n": {i}}}',
                    )
                    for i in range(count)
                ]
                return ModelResponse(output=list(calls), usage=Usage(), response_id=None)
            text = ResponseOutputText(type="output_text", text="done", annotations=[])
            msg = ResponseOutputMessage(
                id="m1", type="message", role="assistant", status="completed", content=[text]
            )
            return ModelResponse(output=[msg], usage=Usage(), response_id=None)

        def stream_response(self, *a: Any, **k: Any) -> Any:
            raise NotImplementedError

    @function_tool
    async def slow(n: int) -> str:
        await asyncio.sleep(SLOW_S)
        return str(n)

    agent = Agent(name="a", model=FakeModel(), tools=[slow])
    start = time.perf_counter()
    result = await Runner.run(agent, "go")
    elapsed = time.perf_counter() - start
    assert result.final_output == "done"
    return elapsed


FAN_OUT_PEERS = {
    "pydantic-ai Agent.run + FunctionModel": fan_out_pydantic_ai,
    "openai-agents Runner.run + fake model": fan_out_openai_agents,
}

PEERS = {
    "pydantic-ai Agent.run + FunctionModel": peer_pydantic_ai,
    "openai-agents Runner.run + fake model": peer_openai_agents,
}


def peer_rows(settings: Settings) -> list[Row]:
    rows = []
    for name, make in PEERS.items():
        try:
            bench = make()
        except ImportError as exc:
            rows.append(Row(name=name, median_us=None, note=f"not installed ({exc.name})"))
            continue
        try:
            rows.append(row(name, measure(bench, settings=settings), note="per run (2 steps)"))
        except Exception as exc:  # a peer's API moved: report it, don't hide the others
            rows.append(Row(name=name, median_us=None, note=f"failed: {exc!r}"[:120]))
    return rows


def peers_elsewhere(settings: Settings) -> list[Row]:
    local = peer_rows(settings)
    if all(r.median_us is not None for r in local) or not PEERS_PYTHON.exists():
        return local
    args = [str(PEERS_PYTHON), __file__, "--peers"] + (["--quick"] if settings.quick else [])
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    try:
        data = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return [*local[:0], Row(name="peers", median_us=None, note=out.stderr[-200:])]
    return [Row(**r) for r in data]


def run(settings: Settings) -> dict[str, Any]:
    per_run = measure(ours_run(), settings=settings)
    box_run = measure(ours_box_run(), settings=settings)
    run_us = statistics.median(per_run)
    tool_us = statistics.median(box_run)
    step_us = (run_us - tool_us) / 2
    rows = [
        row("toolwire Runner.run + Scripted", per_run, ours=True, note="per run (2 steps)"),
        row("  of which box.run (validation + runtime)", box_run),
        *peers_elsewhere(settings),
    ]
    print_table("Loop overhead: one call to a no-op tool, then the answer", rows, unit="µs/run")
    print(f"\ntoolwire loop overhead per step (run minus box.run, / 2 steps): {step_us:.1f} µs")
    print(f"toolwire per step including the runtime: {run_us / 2:.1f} µs (target <= 100)")

    repeats = 1 if settings.quick else 3

    def best(fn: Any, count: int) -> float | None:
        def once() -> float:
            # Start each repeat with no garbage left by the previous case (a peer's, say):
            # otherwise a full collection of someone else's objects lands in this timing.
            # The collector stays on while timing, as it is in production.
            gc.collect()
            elapsed: float = asyncio.run(fn(count))
            return elapsed

        try:
            return min(once() for _ in range(repeats)) * 1000
        except ImportError:
            return None

    runners: dict[str, Any] = {
        "bare asyncio.gather": fan_out_gather,
        "toolwire Runner.run + Scripted (the loop)": fan_out_ours,
        "toolwire box.run alone (the runtime)": fan_out_box,
        **FAN_OUT_PEERS,
    }
    fan_ms: dict[str, list[float | None]] = {name: [] for name in runners}
    fan_notes: dict[str, str] = {}
    for count in FAN_OUT_CURVE:
        for name, fn in runners.items():
            try:
                fan_ms[name].append(best(fn, count))
            except Exception as exc:  # a peer's API moved: report it, keep the others
                fan_ms[name].append(None)
                fan_notes[name] = f"failed: {exc!r}"[:120]
    for name, values in fan_ms.items():
        if all(v is None for v in values) and name not in fan_notes:
            fan_notes[name] = "not installed"
    gather_ms = fan_ms["bare asyncio.gather"][-1]
    ours_fan = fan_ms["toolwire Runner.run + Scripted (the loop)"][-1]
    box_fan = fan_ms["toolwire box.run alone (the runtime)"][-1]
    assert gather_ms is not None and ours_fan is not None and box_fan is not None
    ratio = ours_fan / gather_ms
    print(
        f"\n{FAN_OUT} calls x {SLOW_S * 1000:.0f} ms through the loop: {ours_fan:.1f} ms "
        f"vs bare asyncio.gather {gather_ms:.1f} ms = {ratio:.3f}x (target <= 1.15x)\n"
        f"  of which box.run alone (the runtime): {box_fan:.1f} ms "
        f"= {box_fan / gather_ms:.3f}x; the loop itself adds {ours_fan - box_fan:.1f} ms"
    )
    print(f"\nfan-out, wall ms (best of {repeats}); x bare gather in brackets")
    print(f"{'':42}" + "".join(f"{c:>16}" for c in FAN_OUT_CURVE))
    for name, values in fan_ms.items():
        cells = []
        for v, g in zip(values, fan_ms["bare asyncio.gather"], strict=True):
            r = divide(v, g)
            cells.append(f"{v:9.1f} ({r:4.2f}x)" if v is not None and r else f"{'—':>16}")
        print(f"{name:42}" + "".join(f"{c:>16}" for c in cells) + f"  {fan_notes.get(name, '')}")
    wire = _wire_loop.wire_rows(settings)
    return {
        "rows": rows,
        "wire": wire,
        "per_run_us": run_us,
        "box_run_us": tool_us,
        "loop_overhead_per_step_us": step_us,
        "per_step_incl_runtime_us": run_us / 2,
        "fan_out_ms": fan_ms,
        "fan_out_notes": fan_notes,
        "repeats": repeats,
    }


# Targets of issue 5.
TARGET_STEP_US = 100.0
TARGET_FAN_OUT = 1.15


def schema(settings: Settings, measured: dict[str, Any]) -> dict[str, Any]:
    """The schema of benchmarks/README.md, from what ``run`` measured."""
    rows: list[Row] = measured["rows"]
    ours_run, box_run, *peer_rows_ = rows
    peers, notes = peer_values(peer_rows_)
    step_us = measured["loop_overhead_per_step_us"]
    fan: dict[str, list[float | None]] = measured["fan_out_ms"]
    fan_notes: dict[str, str] = measured["fan_out_notes"]
    gather = fan["bare asyncio.gather"]
    ours_fan = fan["toolwire Runner.run + Scripted (the loop)"][-1]
    box_fan = fan["toolwire box.run alone (the runtime)"][-1]
    ratio = divide(ours_fan, gather[-1])
    fan_peers = {name: fan[name][-1] for name in FAN_OUT_PEERS}
    results = [
        result(
            "loop overhead per step, excluding the tool call",
            ours=step_us,
            unit="µs",
            target=f"<= {TARGET_STEP_US:g} µs",
            met=step_us <= TARGET_STEP_US,
            note=(
                f"(run - box.run) / 2 steps; {measured['per_step_incl_runtime_us']:.1f} µs per"
                " step including the runtime"
            ),
        ),
        result(
            "one call to a no-op tool, then the answer (2 model steps), per run",
            ours=ours_run.median_us,
            unit="µs",
            peers=peers,
            peer_notes={k: v for k, v in notes.items() if peers.get(k) is None},
            note=f"of which box.run (validation + runtime): {box_run.median_us:.1f} µs",
        ),
        result(
            f"{FAN_OUT:,} calls of a {SLOW_S * 1000:.0f} ms async tool in one turn, whole loop",
            ours=ours_fan,
            unit="ms",
            floor=gather[-1],
            ratio=ratio,
            peers=fan_peers,
            peer_notes={k: v for k, v in fan_notes.items() if k in fan_peers},
            target=f"<= {TARGET_FAN_OUT:g}x a bare asyncio.gather",
            met=None if ratio is None else ratio <= TARGET_FAN_OUT,
            note=(
                f"floor: bare asyncio.gather; box.run alone {box_fan:.1f} ms"
                f" ({divide(box_fan, gather[-1]) or 0:.2f}x); best of {measured['repeats']}"
            ),
        ),
        *_wire_loop.wire_results(measured["wire"]),
    ]
    ratios = {
        name: [divide(v, g) for v, g in zip(values, gather, strict=True)]
        for name, values in fan.items()
        if name != "bare asyncio.gather" and any(v is not None for v in values)
    }
    top = max((r for rs in ratios.values() for r in rs if r is not None), default=1.0)
    curves = {
        "fan_out": curve(
            title=f"N calls of a {SLOW_S * 1000:.0f} ms async tool in one turn, vs bare gather",
            x=FAN_OUT_CURVE,
            x_label="calls in one model turn (N)",
            y_label="wall time / bare asyncio.gather" + (" (log)" if top > 4 else ""),
            series=ratios,
            log_x=True,
            log_y=top > 4,
            target=(TARGET_FAN_OUT, f"target at {FAN_OUT:,}: <= {TARGET_FAN_OUT:g}x"),
        ),
        "fan_out_ms": curve(
            title=f"N calls of a {SLOW_S * 1000:.0f} ms async tool in one turn: wall time",
            x=FAN_OUT_CURVE,
            x_label="calls in one model turn (N)",
            y_label="wall ms (best of runs)",
            series={k: v for k, v in fan.items() if any(x is not None for x in v)},
            log_x=True,
            log_y=top > 4,
            reference=["bare asyncio.gather"],
        ),
    }
    return payload(
        "bench_loop",
        title="The model <-> tool loop: overhead per step, and N concurrent calls in one turn",
        settings=settings,
        results=results,
        curves=curves,
    )


def main() -> None:
    if "--peers" in sys.argv:
        sys.argv.remove("--peers")
        settings = parse_args(__doc__ or "")
        rows = peer_rows(settings)
        print(
            json.dumps(
                [{k: getattr(r, k) for k in ("name", "median_us", "note", "runs_us")} for r in rows]
            )
        )
        return
    settings = parse_args(__doc__ or "")
    report(settings, schema(settings, run(settings)))


if __name__ == "__main__":
    main()
