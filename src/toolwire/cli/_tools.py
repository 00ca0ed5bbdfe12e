"""``toolwire tools list|export``: show tools, or print them in a model dialect as JSON.

Without ``--tools`` the seed's ``get_weather`` schema is used. A source is ``module:attr``,
``path.py:attr`` or ``path.py`` (then every Tool and Toolbox at module level); the attribute
may be a Toolbox, a Tool, or a list of them.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from toolwire._errors import ToolwireError
from toolwire._json import dumps
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool
from toolwire.dialects._export import EXPORT_DIALECTS
from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA


def _load_module(spec: str) -> Any:
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec).resolve()
        if not path.is_file():
            raise click.BadParameter(f"no such file: {spec}", param_hint="--tools")
        name = f"_toolwire_tools_{abs(hash(str(path)))}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise click.BadParameter(f"cannot import {spec}", param_hint="--tools")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
        return module
    return importlib.import_module(spec)


def _collect(value: Any, source: str) -> list[Tool]:
    if isinstance(value, Tool):
        return [value]
    if isinstance(value, Toolbox):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _collect(item, source)]
    raise click.BadParameter(
        f"{source} is a {type(value).__name__}, not a Tool, Toolbox or list of them",
        param_hint="--tools",
    )


def load_tools(sources: Iterable[str]) -> Toolbox:
    """Build one toolbox from ``--tools`` sources (the seed's tool when there are none)."""
    sources = list(sources)
    if not sources:
        return Toolbox([Tool.from_schema(SEED_GET_WEATHER_SCHEMA)])
    box = Toolbox()
    for source in sources:
        module_part, _, attr = source.rpartition(":") if ":" in source else (source, "", "")
        try:
            module = _load_module(module_part)
        except ImportError as exc:
            raise click.BadParameter(
                f"cannot import {module_part}: {exc}", param_hint="--tools"
            ) from exc
        if attr:
            if not hasattr(module, attr):
                raise click.BadParameter(f"{module_part} has no {attr!r}", param_hint="--tools")
            found = _collect(getattr(module, attr), source)
        else:
            values = [v for v in vars(module).values() if isinstance(v, (Tool, Toolbox))]
            found = [t for v in values for t in _collect(v, source)]
        for item in found:
            if item.name not in box:
                box.add(item)
    return box


_TOOLS_OPTION = click.option(
    "--tools",
    "sources",
    multiple=True,
    metavar="SOURCE",
    help="module:attr, path.py:attr or path.py (repeatable). Default: the seed's get_weather.",
)


@click.group()
def tools() -> None:
    """List tools or export them to a model dialect."""


@tools.command("list")
@_TOOLS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_tools(sources: tuple[str, ...], as_json: bool) -> None:
    """Show the tools: name, hints and description."""
    box = load_tools(sources)
    rows = []
    for item in box:
        hints = item.spec.annotations
        flags = [
            flag
            for flag, on in (
                ("read-only", hints.read_only),
                ("idempotent", hints.idempotent),
                ("destructive", hints.destructive),
                ("open-world", hints.open_world),
            )
            if on
        ]
        rows.append({"name": item.name, "description": item.spec.description, "hints": flags})
    if as_json:
        click.echo(dumps(rows))
        return
    for row in rows:
        hint = f" [{', '.join(row['hints'])}]" if row["hints"] else ""
        click.echo(f"{row['name']}{hint}\t{row['description']}")


@tools.command("export")
@_TOOLS_OPTION
@click.option(
    "--dialect",
    type=click.Choice(EXPORT_DIALECTS),
    default="openai",
    show_default=True,
    help="The model dialect to export to.",
)
@click.option("--strict", is_flag=True, help="OpenAI strict mode (openai* and anthropic).")
@click.option("--pretty", is_flag=True, help="Indent the JSON.")
def export_tools(sources: tuple[str, ...], dialect: str, strict: bool, pretty: bool) -> None:
    """Print the tools as DIALECT expects them, as JSON (non-ASCII kept as text)."""
    box = load_tools(sources)
    try:
        exported = box.export(dialect, strict=strict)
    except ToolwireError as exc:
        raise click.ClickException(str(exc)) from exc
    text = dumps(exported)
    click.echo(json.dumps(json.loads(text), indent=2, ensure_ascii=False) if pretty else text)
