"""``toolwire demo``: the seed's weather scenario end to end, offline, step by step.

The seed registers ``get_weather`` from a raw JSON Schema, lets GPT-4 call it through the
legacy ``functions`` API, calls a weather API, sends the result back as a ``role: "function"``
message and prints the final answer. The demo does the same with toolwire: an offline
stand-in model (rules, not an LLM) and a *simulated* weather service (deterministic numbers,
like the seed's FastAPI mock), so it needs no network. ``--model`` swaps in a real endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool
from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA
from toolwire.models._base import Api, Model
from toolwire.models._kinds import MODEL_KINDS
from toolwire.models.offline import Offline
from toolwire.runner import Runner, RunResult
from toolwire.runtime._policy import Breaker, Cache, Policy, Retry

SIMULATED_LATENCY_S = 0.05
DEMO_POLICY = Policy(
    timeout=2.0,
    retry=Retry(attempts=3, backoff=0.1, retry_on=("timeout", "remote_error")),
    breaker=Breaker(window=20, min_calls=5, failure_rate=0.5, open_for=30.0),
    cache=Cache(ttl=300.0),
)


async def simulated_weather(location: str) -> dict[str, Any]:
    """SIMULATED weather data (deterministic per city), standing in for a real weather API."""
    await asyncio.sleep(SIMULATED_LATENCY_S)
    seed = int(hashlib.sha256(location.encode()).hexdigest()[:8], 16)
    return {
        "location": location,
        "temp": 12 + seed % 20,
        "humidity": 35 + seed % 50,
        "simulated": True,
    }


def seed_tool() -> Tool:
    """The seed's ``get_weather``, from its raw JSON Schema, backed by the simulated service."""
    return Tool.from_schema(
        SEED_GET_WEATHER_SCHEMA, handler=simulated_weather, read_only=True, policy=DEMO_POLICY
    )


def seed_toolbox() -> Toolbox:
    return Toolbox([seed_tool()])


def resolve_model(
    spec: str | None, *, api: Api = "tools", config_path: str | None = None
) -> Model | None:
    """``--model``: ``offline``, an ``http(s)://`` base URL (an OpenAI-compatible server),
    ``KIND:MODEL`` (a kind of :data:`~toolwire.models.MODEL_KINDS`, e.g. ``anthropic:claude-x``)
    or a name from ``[models]`` in toolwire.toml (whose ``kind`` defaults to
    ``openai-compatible``).

    Secrets come from the environment (``api_key_env`` in the file, else the kind's own
    variable, e.g. ``OPENAI_API_KEY``); the model name for a bare URL from
    ``TOOLWIRE_MODEL_NAME`` (default ``default``).
    """
    if not spec:
        return None
    if spec == "offline":
        return _build("offline", {"api": api})
    if spec.startswith(("http://", "https://")):
        return _build(
            "openai-compatible",
            {"api": api},
            model=os.environ.get("TOOLWIRE_MODEL_NAME", "default"),
            base_url=spec,
        )
    kind, sep, name = spec.partition(":")
    if sep and kind in MODEL_KINDS:
        return _build(kind, {"api": api}, model=name)
    from toolwire.config import load_config

    config = load_config(config_path)
    table = config.models.get(spec)
    if table is None:
        known = ", ".join(sorted(config.models)) or "none configured"
        raise click.UsageError(
            f"unknown model {spec!r}: not offline, a URL or KIND:MODEL (kinds: "
            f"{', '.join(MODEL_KINDS)}), nor a model in toolwire.toml ({known})"
        )
    kind = str(table.get("kind", "openai-compatible"))
    options = {k: table[k] for k in ("api", "text_format") if k in table}
    return _build(
        kind,
        {"api": api, **options},
        model=str(table.get("model", spec)),
        base_url=table.get("base_url"),
        api_key=config.secret(table, "api_key"),
        given=frozenset(options),
    )


def _build(
    kind_name: str,
    options: dict[str, Any],
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    given: frozenset[str] = frozenset(),
) -> Model:
    """A client of ``kind_name``; an option the kind does not take is dropped when it only
    came from a CLI default (``--api``) and refused when the config file set it."""
    kind = MODEL_KINDS.get(kind_name)
    if kind is None:
        raise click.UsageError(f"unknown model kind {kind_name!r}; known: {', '.join(MODEL_KINDS)}")
    taken = {k: v for k, v in options.items() if k in kind.options or k in given}
    if kind.key_env and api_key is None:
        api_key = os.environ.get(kind.key_env)
    try:
        return kind.build(model=model, base_url=base_url, api_key=api_key, options=taken)
    except (TypeError, ValueError) as exc:
        raise click.UsageError(f"model kind {kind_name!r}: {exc}") from None


async def close_model(model: Model | None) -> None:
    """Close a model's HTTP client inside the loop that used it (before asyncio.run ends)."""
    closer = getattr(model, "aclose", None)
    if closer is not None:
        await closer()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _result_row(result: ToolResult, arguments: str) -> list[str]:
    outcome = "ok" if result.ok else f"{result.error.kind if result.error else 'error'}"
    return [
        result.call_id[-12:],
        arguments,
        outcome,
        str(result.attempts),
        "hit" if result.cached else "miss",
        _ms(result.elapsed_s),
    ]


def _show_seed_run(console: Console, box: Toolbox, run: RunResult, prompt: str) -> None:
    for step in run.steps:
        console.rule(f"[bold]step {step.index}[/] · model {step.model} · {_ms(step.model_s)}")
        if not step.calls:
            console.print("[bold]final answer[/] (the model read the function result):")
            console.print(step.content)
            continue
        for call, result in zip(step.calls, step.results, strict=False):
            console.print(f"[bold]the model's call[/]: {call.name}({call.arguments})")
            try:
                validated = box.validate(call.name, call.arguments)
                console.print(f"[bold]validated arguments[/]: {_json.dumps(validated)}")
            except Exception as exc:  # shown, not fatal: the runtime reports it to the model
                console.print(f"[bold red]invalid arguments[/]: {exc}")
            console.print(
                "[bold]executed through the policies[/] (timeout 2 s, retry x3, breaker, "
                f"cache 300 s): ok={result.ok} attempts={result.attempts} "
                f"cached={result.cached} · {_ms(result.elapsed_s)}"
            )
    sent_back = [m for m in run.messages if m.get("role") in ("function", "tool")]
    if sent_back:
        console.print("[bold]message(s) sent back to the model[/]:")
        for message in sent_back:
            console.print(_json.dumps(message))


async def _parallel(console: Console, runner: Runner, prompt: str, label: str) -> RunResult:
    started = time.perf_counter()
    run = await runner.run(prompt)
    wall = time.perf_counter() - started
    table = Table(title=f"{label}: {prompt}", title_justify="left")
    for column in ("call", "arguments", "outcome", "attempts", "cache", "elapsed"):
        table.add_column(column)
    tool_time = 0.0
    tools_wall = 0.0
    for step in run.steps:
        tools_wall += step.tools_s
        for call, result in zip(step.calls, step.results, strict=False):
            table.add_row(*_result_row(result, call.arguments))
            tool_time += result.elapsed_s
    console.print(table)
    console.print(
        f"{len(run.calls)} calls in {len(run.steps)} model steps; tools took {_ms(tools_wall)} "
        f"of wall time for {_ms(tool_time)} of call time (calls in one step run concurrently); "
        f"whole run {_ms(wall)}"
    )
    console.print(f"[bold]final answer[/]: {run.final_text}")
    return run


async def run_demo(console: Console, model: Model | None) -> int:
    try:
        return await _run_demo(console, model)
    finally:
        await close_model(model)


async def _run_demo(console: Console, model: Model | None) -> int:
    offline = model is None
    box = seed_toolbox()
    if offline:
        console.print(
            "[bold]toolwire demo[/] — offline: the model is toolwire's [bold]offline stand-in"
            "[/] (deterministic rules, NOT an LLM) and the weather service is [bold]simulated"
            "[/] (deterministic numbers). Nothing touches the network."
        )
    else:
        assert model is not None
        console.print(f"[bold]toolwire demo[/] — model: {model.describe()} (real endpoint)")
    console.rule("[bold]1. the tool, from the seed's raw JSON Schema")
    console.print("functions = (exactly what the seed passes to ChatCompletion.create)")
    console.print_json(_json.dumps(box.export("openai-functions")))
    prompt = "北京今天气温如何?"
    console.rule(f"[bold]2-4. ask · call · execute · feed back · answer: {prompt}")
    seed_model = Offline(api="functions") if offline else model
    assert seed_model is not None
    started = time.perf_counter()
    run = await Runner(model=seed_model, tools=box, max_steps=4).run(prompt)
    _show_seed_run(console, box, run, prompt)
    console.print(f"run: {run.stop_reason} in {_ms(time.perf_counter() - started)}")
    if not run.ok:
        console.print(f"[bold red]the run did not finish[/]: {run.error}")
        return 1
    console.rule("[bold]5. parallel calls (tools API), then the same again from the cache")
    para_model = Offline() if offline else model
    assert para_model is not None
    # A fresh toolbox (fresh cache), so that the first round really runs all three calls.
    runner = Runner(model=para_model, tools=seed_toolbox(), max_steps=4)
    first = await _parallel(console, runner, "北京、上海、广州的天气", "first time")
    second = await _parallel(console, runner, "北京、上海、广州的天气", "again")
    hits = sum(r.cached for r in second.results)
    console.print(f"cache hits on the repeat: {hits}/{len(second.results)}")
    return 0 if first.ok and second.ok else 1


@click.command()
@click.option(
    "--model",
    "model_spec",
    default=None,
    help="An OpenAI-compatible base URL or a "
    "model name from toolwire.toml. Default: the offline stand-in (no network).",
)
@click.option(
    "--api",
    type=click.Choice(["tools", "functions", "text"]),
    default="tools",
    show_default=True,
    help="How to talk to --model.",
)
@click.option("--config", "config_path", default=None, help="Path to toolwire.toml.")
@click.option(
    "--remote",
    is_flag=True,
    help="Then the seed's architecture end to end: start its FastAPI weather service and its "
    "gRPC WeatherService on 127.0.0.1, import them (OpenAPI, gRPC reflection), let the model "
    'call both. Needs the serve and grpc extras: pip install "toolwire[serve,grpc]".',
)
def demo(model_spec: str | None, api: str, config_path: str | None, remote: bool) -> None:
    """Run the seed's weather scenario end to end (offline by default)."""
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 110)
    model = resolve_model(model_spec, api=api, config_path=config_path)  # type: ignore[arg-type]
    code = asyncio.run(run_demo(console, model))
    if code == 0 and remote:
        code = asyncio.run(_run_remote(console, model))
    sys.exit(code)


async def _run_remote(console: Console, model: Model | None) -> int:
    console.rule("[bold]6. the seed's services as remote tools: REST (OpenAPI) and gRPC")
    try:
        # Imported on demand: it needs FastAPI, uvicorn and grpcio, which the base install lacks.
        from toolwire.examples.remote_demo import run_remote_demo
    except ImportError as exc:
        # markup off: the install hint's "[serve,grpc]" is not a rich style tag
        console.print(f"--remote needs extras: {exc}", style="bold red", markup=False)
        console.print('install them with: pip install "toolwire[serve,grpc]"', markup=False)
        return 1
    runs = await run_remote_demo(model, echo=console.print)
    return 0 if all(run.ok for run in runs.values()) else 1


__all__: Sequence[str] = ["demo", "resolve_model", "seed_toolbox", "simulated_weather"]
