"""``toolwire chat "..." [--model ...] [--tools ...]``: one-shot or interactive.

Without ``--model`` it uses the offline stand-in model and says so. A model named with
``--model`` that fails is an error (exit 1, the reason on stderr): answering with the
stand-in instead is opt-in (``--fallback-offline``), so a script never takes the stand-in's
answer for the model's. Without ``--tools`` the tool is the seed's ``get_weather``
(simulated).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Sequence

import click

from toolwire import _json
from toolwire._sources import SOURCE_FORMS
from toolwire._toolbox import Toolbox
from toolwire.cli._demo import close_model, resolve_model, seed_toolbox
from toolwire.models._base import Model
from toolwire.models.offline import Offline
from toolwire.runner import Runner, RunResult

OFFLINE_NOTE = "using the offline stand-in model (deterministic rules, not an LLM)"


async def load_toolbox(
    sources: Sequence[str], config_path: str | None
) -> tuple[Toolbox, list[str]]:
    """The tools named by ``--tools`` (plus toolwire.toml sources), or the seed's weather tool."""

    if not sources and config_path is None:
        return seed_toolbox(), ["tools: the seed's get_weather (simulated weather data)"]
    from toolwire.config import load_config, load_tools

    config = load_config(config_path)
    local = [s for s in sources if not s.startswith(("http://", "https://"))]
    remote = [{"openapi": s} for s in sources if s.startswith(("http://", "https://"))]
    if remote:
        config = dataclasses.replace(config, sources=(*config.sources, *remote))
    tools = await load_tools(config, local)
    if not tools:
        return seed_toolbox(), ["no tools found: using the seed's get_weather (simulated)"]
    return Toolbox(tools), [f"tools: {', '.join(t.name for t in tools)}"]


async def close_connections() -> None:
    """Close what tool sources opened on this event loop (HTTP clients, MCP sessions, gRPC
    channels, the SQL pack's PostgreSQL pools); call it in the same loop, before it ends, or
    aiohttp warns about unclosed sessions, MCP subprocesses linger and database connections
    leak. A source whose extra is not installed opened none."""
    closers = (
        ("toolwire.remote._http", "close_clients"),
        ("toolwire.remote.mcp", "close_sessions"),
        ("toolwire.remote.grpc", "close_channels"),
        ("toolwire.packs.sql._db", "close_pools"),
    )
    import importlib

    for module_name, name in closers:
        if module_name not in sys.modules:  # never imported: nothing was opened
            continue
        try:
            await getattr(importlib.import_module(module_name), name)()
        except Exception as exc:  # one failing close must not leak the others
            click.echo(f"[toolwire] closing {module_name}: {exc}", err=True)


async def _run_closing(
    prompt: str,
    model: Model | None,
    sources: Sequence[str],
    config_path: str | None,
    max_steps: int,
    fallback_offline: bool,
) -> RunResult:
    try:
        box, _ = await load_toolbox(sources, config_path)
        runner = Runner(model=model or Offline(), tools=box, max_steps=max_steps)
        fallback = None
        if model is not None and fallback_offline:
            fallback = Runner(model=Offline(), tools=box, max_steps=max_steps)
        return await _ask(runner, prompt, fallback)
    finally:
        await close_model(model)
        await close_connections()


def _print_run(result: RunResult) -> None:
    for step in result.steps:
        for call, outcome in zip(step.calls, step.results, strict=False):
            status = "ok" if outcome.ok else (outcome.error.kind if outcome.error else "error")
            click.echo(
                f"  -> {call.name}({call.arguments}) [{status}] {outcome.as_text()}", err=True
            )
    if result.ok:
        click.echo(result.final_text)
    else:
        click.echo(
            f"(stopped: {result.stop_reason}) {result.error.message if result.error else ''}"
        )


async def _ask(runner: Runner, prompt: str, fallback: Runner | None) -> RunResult:
    result = await runner.run(prompt)
    if result.stop_reason == "model_error" and fallback is not None:
        click.echo(
            f"[toolwire] the model failed ({_reason(result)}); falling back: {OFFLINE_NOTE}",
            err=True,
        )
        result = await fallback.run(prompt)
    return result


def _reason(result: RunResult) -> str:
    return result.error.message if result.error else "unknown error"


def _model_failed(result: RunResult) -> bool:
    """Say so on stderr when the named model failed (the caller then exits 1)."""
    if result.stop_reason != "model_error":
        return False
    click.echo(
        f"[toolwire] error: the model failed: {_reason(result)}\n"
        "[toolwire] (--fallback-offline answers with the offline stand-in instead)",
        err=True,
    )
    return True


async def _chat_closing(
    prompt: str | None,
    model: Model | None,
    sources: Sequence[str],
    config_path: str | None,
    max_steps: int,
    fallback_offline: bool,
) -> int:
    try:
        return await _chat(prompt, model, sources, config_path, max_steps, fallback_offline)
    finally:
        await close_model(model)
        await close_connections()


async def _chat(
    prompt: str | None,
    model: Model | None,
    sources: Sequence[str],
    config_path: str | None,
    max_steps: int,
    fallback_offline: bool,
) -> int:
    box, notes = await load_toolbox(sources, config_path)
    for note in notes:
        click.echo(f"[toolwire] {note}", err=True)
    offline = Runner(model=Offline(), tools=box, max_steps=max_steps)
    fallback: Runner | None = None
    if model is None:
        click.echo(f"[toolwire] no --model given: {OFFLINE_NOTE}", err=True)
        runner = offline
    else:
        runner = Runner(model=model, tools=box, max_steps=max_steps)
        if fallback_offline:
            fallback = offline
    if prompt is not None:
        result = await _ask(runner, prompt, fallback)
        if _model_failed(result):
            return 1
        _print_run(result)
        return 0 if result.ok else 1
    history: list[dict[str, object]] = []
    while True:
        try:
            line = await asyncio.to_thread(input, "you> ")
        except EOFError:
            return 0
        if line.strip() in ("exit", "quit", ":q"):
            return 0
        if not line.strip():
            continue
        result = (
            await _ask(runner, line, fallback)
            if not history
            else await runner.run([*history, {"role": "user", "content": line}])
        )
        if _model_failed(result):
            return 1
        history = list(result.messages)
        _print_run(result)


@click.command()
@click.argument("prompt", required=False)
@click.option(
    "--model",
    "model_spec",
    default=None,
    help="OpenAI-compatible base URL or a "
    "model name from toolwire.toml (default: the offline stand-in).",
)
@click.option(
    "--api", type=click.Choice(["tools", "functions", "text"]), default="tools", show_default=True
)
@click.option(
    "--tools",
    "sources",
    multiple=True,
    help=f"Tool source: {SOURCE_FORMS}, or an OpenAPI URL (repeatable).",
)
@click.option("--config", "config_path", default=None, help="Path to toolwire.toml.")
@click.option("--max-steps", default=8, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the whole run as JSON.")
@click.option(
    "--fallback-offline",
    is_flag=True,
    help="When the --model fails, answer with the offline stand-in (and say so) instead of "
    "exiting 1.",
)
def chat(
    prompt: str | None,
    model_spec: str | None,
    api: str,
    sources: tuple[str, ...],
    config_path: str | None,
    max_steps: int,
    as_json: bool,
    fallback_offline: bool,
) -> None:
    """Talk to a model that can call your tools (one-shot with PROMPT, else interactive)."""

    model = resolve_model(model_spec, api=api, config_path=config_path)  # type: ignore[arg-type]
    if as_json and prompt is not None:
        result = asyncio.run(
            _run_closing(prompt, model, sources, config_path, max_steps, fallback_offline)
        )
        click.echo(_json.dumps(result.to_dict()))
        sys.exit(0 if result.ok else 1)
    sys.exit(
        asyncio.run(_chat_closing(prompt, model, sources, config_path, max_steps, fallback_offline))
    )
