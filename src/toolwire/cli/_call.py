"""``toolwire call NAME key=value ... | --json '{...}'``: one call through the toolbox runtime."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import Any

import click

from toolwire import _json
from toolwire._sources import SOURCE_FORMS
from toolwire.cli._chat import close_connections, load_toolbox


def parse_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs -> arguments; a value that parses as JSON is taken as JSON."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint="ARGS")
        try:
            out[key] = _json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


async def _call(
    name: str, arguments: dict[str, Any], sources: Sequence[str], config_path: str | None
) -> dict[str, Any]:
    # Load, call and close in one event loop: clients opened while loading remote tools
    # belong to the loop that opened them.
    try:
        box = (await load_toolbox(sources, config_path))[0]
        result = await box.call(name, _json.dumps(arguments))
        return result.to_dict()
    finally:
        await close_connections()


@click.command()
@click.argument("name")
@click.argument("args", nargs=-1)
@click.option("--json", "json_args", default=None, help="The arguments as one JSON object.")
@click.option(
    "--tools",
    "sources",
    multiple=True,
    help=f"Tool source: {SOURCE_FORMS}, or an OpenAPI URL (repeatable).",
)
@click.option("--config", "config_path", default=None, help="Path to toolwire.toml.")
def call(
    name: str,
    args: tuple[str, ...],
    json_args: str | None,
    sources: tuple[str, ...],
    config_path: str | None,
) -> None:
    """Call one tool and print its result as JSON (exit 1 when the call failed).

    Without --tools the toolbox is the seed's get_weather (simulated data), as in the demo:
    toolwire call get_weather location=北京
    """
    if json_args is not None and args:
        raise click.UsageError("give the arguments either as key=value pairs or with --json")
    if json_args is not None:
        try:
            arguments = _json.loads(json_args)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--json") from None
        if not isinstance(arguments, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--json")
    else:
        arguments = parse_pairs(args)
    out = asyncio.run(_call(name, arguments, sources, config_path))
    click.echo(_json.dumps(out))
    sys.exit(0 if out["ok"] else 1)
