"""``toolwire serve``: one toolbox over REST, gRPC and MCP through the same runtime.

Settings: flag > environment (``TOOLWIRE_HOST``, ``TOOLWIRE_PORT``...) > ``toolwire.toml`` >
default. Without ``--tools`` or ``[[sources]]`` the seed's ``get_weather`` is served, with a
simulated answer like the seed's FastAPI weather service.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from toolwire._context import Context
from toolwire._tools import Tool
from toolwire.cli._chat import close_connections
from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA


def seed_tools() -> list[Tool]:
    """The seed's ``get_weather``, answering like its FastAPI ``/weather`` endpoint."""

    async def get_weather(location: str, ctx: Context) -> dict[str, Any]:
        await ctx.report_progress(1, 1, f"weather for {location}")
        return {"location": location, "temp": 25, "humidity": 60}

    return [
        Tool.from_schema(
            SEED_GET_WEATHER_SCHEMA,
            get_weather,
            read_only=True,
            open_world=True,
            output_schema={
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "temp": {"type": "integer"},
                    "humidity": {"type": "integer"},
                },
                "required": ["location", "temp", "humidity"],
            },
        )
    ]


def _pick(flag: Any, table: Any, key: str, default: Any) -> Any:
    if flag is not None:
        return flag
    return table.get(key, default)


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="toolwire.toml (default: $TOOLWIRE_CONFIG or ./toolwire.toml).",
)
@click.option(
    "--tools",
    "tool_specs",
    multiple=True,
    help="Tool source: module:attr, module, file.py or file.py:attr (repeatable).",
)
@click.option("--host", default=None, help="Interface to bind [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="REST/MCP/dashboard port [default: 8000].")
@click.option(
    "--grpc-port", type=int, default=None, help="gRPC port [default: 50051]; -1 turns gRPC off."
)
@click.option("--mcp-stdio", is_flag=True, help="Serve MCP over stdin/stdout instead.")
@click.option("--no-mcp", is_flag=True, help="Do not mount MCP at /mcp.")
@click.option("--workers", type=int, default=None, help="Processes sharing the ports [default: 1].")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback bind without authentication.")
@click.option("--reuse-port", is_flag=True, hidden=True)
def serve(
    config_path: str | None,
    tool_specs: tuple[str, ...],
    host: str | None,
    port: int | None,
    grpc_port: int | None,
    mcp_stdio: bool,
    no_mcp: bool,
    workers: int | None,
    insecure: bool,
    reuse_port: bool,
) -> None:
    """Serve tools over REST, gRPC and MCP (dashboard at /)."""
    from toolwire.config import ConfigError, load_config
    from toolwire.serve._config import auth_from, limits_from
    from toolwire.serve._server import RefusedToStart, ServeOptions, check_bind, run, run_workers

    try:
        config = load_config(config_path)
        server = config.server
        limits = limits_from(config)
        auth = auth_from(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    host = _pick(host, server, "host", "127.0.0.1")
    grpc = _pick(grpc_port, server, "grpc_port", 50051)
    options = ServeOptions(
        host=host,
        port=_pick(port, server, "port", 8000),
        grpc_port=None if grpc is None or grpc < 0 else grpc,
        mcp=not no_mcp and bool(server.get("mcp", True)),
        insecure=insecure or bool(server.get("insecure", False)),
        workers=_pick(workers, server, "workers", 1),
        reuse_port=reuse_port,
        limits=limits,
        title=str(server.get("title", "toolwire")),
        log_level=str(server.get("log_level", "warning")),
        mcp_stateless=bool(server.get("mcp_stateless", False)),
        mcp_json_response=bool(server.get("mcp_json_response", False)),
    )
    if mcp_stdio:
        asyncio.run(_stdio(config, tool_specs, auth, limits))
        return
    try:
        check_bind(options.host, auth_enabled=auth.enabled, insecure=options.insecure)
    except RefusedToStart as exc:
        raise click.ClickException(str(exc)) from None
    if options.workers > 1:
        sys.exit(run_workers(sys.argv[1:], options.workers))

    async def build() -> Any:
        return await _service(config, tool_specs, auth, limits)

    try:
        run(build, options, cleanup=close_connections)
    except RefusedToStart as exc:
        raise click.ClickException(str(exc)) from None
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        pass


async def _service(config: Any, tool_specs: tuple[str, ...], auth: Any, limits: Any) -> Any:
    from toolwire._toolbox import Toolbox
    from toolwire.config import load_tools
    from toolwire.serve._auth import Authenticator
    from toolwire.serve._config import backend_from
    from toolwire.serve._service import ToolService

    tools = await load_tools(config, tool_specs)
    if not tools:
        tools = seed_tools()
    backend = backend_from(config)
    runtime = None
    checks = []
    if backend is not None:
        from toolwire.runtime import Executor

        runtime = Executor(backend=backend)

        async def redis() -> None:
            await backend.client.ping()

        checks.append(redis)
    box = Toolbox(tools, runtime=runtime)
    return ToolService(box, auth=Authenticator(auth), limits=limits, ready_checks=checks)


async def _stdio(config: Any, tool_specs: tuple[str, ...], auth: Any, limits: Any) -> None:
    from toolwire.serve._mcp import run_stdio

    try:
        service = await _service(config, tool_specs, auth, limits)
        await run_stdio(service)
    finally:
        await close_connections()
