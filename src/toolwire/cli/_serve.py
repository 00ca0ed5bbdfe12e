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
from toolwire._sources import SOURCE_FORMS
from toolwire._tools import Tool
from toolwire.cli._chat import close_connections
from toolwire.config import ConfigError
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
    help=f"Tool source: {SOURCE_FORMS} (repeatable).",
)
@click.option("--host", default=None, help="Interface to bind [default: 127.0.0.1].")
@click.option(
    "--port",
    type=int,
    default=None,
    help="REST/MCP/dashboard port [default: 8000]; 0 = any free port (the ready line names it).",
)
@click.option(
    "--grpc-port",
    type=int,
    default=None,
    help="gRPC port [default: 50051]; -1 turns gRPC off; 0 = any free port.",
)
@click.option("--mcp-stdio", is_flag=True, help="Serve MCP over stdin/stdout instead.")
@click.option("--no-mcp", is_flag=True, help="Do not mount MCP at /mcp.")
@click.option("--workers", type=int, default=None, help="Processes sharing the ports [default: 1].")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback bind without authentication.")
@click.option(
    "--audit-log",
    default=None,
    help="Append one JSON line per call to this file ('-': stderr) [default: off].",
)
@click.option(
    "--redact-errors/--no-redact-errors",
    default=None,
    help="Send callers only the kind, a generic message and an error id for handler and "
    "upstream failures (full text in the log) [default: on unless bound to loopback].",
)
@click.option(
    "--shutdown-grace",
    type=float,
    default=None,
    help="On SIGTERM: seconds the calls in flight get to finish [default: 25].",
)
@click.option("--reuse-port", is_flag=True, hidden=True)
@click.option("--fd", type=int, default=None, hidden=True)
@click.option("--ready-fd", type=int, default=None, hidden=True)
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
    audit_log: str | None,
    redact_errors: bool | None,
    shutdown_grace: float | None,
    reuse_port: bool,
    fd: int | None,
    ready_fd: int | None,
) -> None:
    """Serve tools over REST, gRPC and MCP (dashboard at /)."""
    from toolwire.config import load_config
    from toolwire.serve._config import auth_from, limits_from
    from toolwire.serve._server import RefusedToStart, ServeOptions, check_bind, run, run_workers

    try:
        config = load_config(config_path)
        server = config.server
        limits = limits_from(config)
        auth = auth_from(config)
        redact = _flag(redact_errors, server, "redact_errors", config)
        audit_to = audit_log if audit_log is not None else _audit_path(server, config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if audit_to is not None:
        _audit_to(audit_to)
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
        fd=fd,
        ready_fd=ready_fd,
        limits=limits,
        title=str(server.get("title", "toolwire")),
        log_level=str(server.get("log_level", "warning")),
        mcp_stateless=bool(server.get("mcp_stateless", False)),
        mcp_json_response=bool(server.get("mcp_json_response", False)),
        shutdown_delay=float(server.get("shutdown_delay", 0.0)),
        shutdown_grace=float(_pick(shutdown_grace, server, "shutdown_grace", 25.0)),
    )
    if mcp_stdio:
        asyncio.run(_stdio(config, tool_specs, auth, limits, redact))
        return
    try:
        check_bind(options.host, auth_enabled=auth.enabled, insecure=options.insecure)
        if options.workers > 1:
            sys.exit(run_workers(sys.argv[1:], options))
    except RefusedToStart as exc:
        raise click.ClickException(str(exc)) from None

    async def build() -> Any:
        return await _service(config, tool_specs, auth, limits, redact, several=reuse_port)

    try:
        run(build, options, cleanup=close_connections)
    except RefusedToStart as exc:
        raise click.ClickException(str(exc)) from None
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        pass


def _flag(flag: bool | None, table: Any, key: str, config: Any) -> bool | None:
    value = _pick(flag, table, key, None)
    if value is not None and not isinstance(value, bool):
        raise ConfigError(f"{config.path or 'configuration'} [server]: {key} must be true or false")
    return value


def _audit_path(server: Any, config: Any) -> str | None:
    value = server.get("audit_log")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{config.path or 'configuration'} [server]: audit_log must be a file path or '-'"
        )
    return value if value == "-" else str(config.resolve(value))


def _audit_to(target: str) -> None:
    """Send the ``toolwire.audit`` logger's JSON lines to ``target`` (a file, appended to, or
    ``-`` for stderr). Each worker process appends its own lines to the same file."""
    import logging

    handler: logging.Handler
    if target == "-":
        handler = logging.StreamHandler(sys.stderr)
    else:
        try:
            handler = logging.FileHandler(target, mode="a", encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot open the audit log {target}: {exc}") from None
    handler.setFormatter(logging.Formatter("%(message)s"))
    audit = logging.getLogger("toolwire.audit")
    audit.addHandler(handler)
    audit.setLevel(logging.INFO)
    audit.propagate = False  # its lines are the file's, not the console's


async def _service(
    config: Any,
    tool_specs: tuple[str, ...],
    auth: Any,
    limits: Any,
    redact: bool | None,
    *,
    several: bool = False,
) -> Any:
    from toolwire._toolbox import Toolbox
    from toolwire.config import load_tools
    from toolwire.serve._auth import Authenticator
    from toolwire.serve._config import backend_from
    from toolwire.serve._service import ToolService
    from toolwire.serve._tasks import tasks_from

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
    box = Toolbox(
        tools, runtime=runtime, tasks=tasks_from(config, backend, tools=tools, several=several)
    )
    return ToolService(
        box, auth=Authenticator(auth), limits=limits, ready_checks=checks, redact_errors=redact
    )


async def _stdio(
    config: Any, tool_specs: tuple[str, ...], auth: Any, limits: Any, redact: bool | None
) -> None:
    from toolwire.serve._mcp import run_stdio

    try:
        # stdio's caller is the local user who launched it: redacted only when asked
        service = await _service(config, tool_specs, auth, limits, bool(redact))
        await run_stdio(service)
    finally:
        await close_connections()
