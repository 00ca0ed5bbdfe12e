"""``toolwire tools list|export|grammar``: show tools, print them in a model dialect as JSON, or
print the grammar that constrains a model to valid calls to them.

Without ``--tools`` the seed's ``get_weather`` schema is used. Sources are those of
``toolwire serve --tools`` (see :mod:`toolwire._sources`): ``module:attr``, ``path.py:attr``,
``path.py`` (every Tool and Toolbox at module level), ``openapi:``, ``grpc:``, ``mcp:``...
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Iterable

import click

from toolwire._errors import ToolwireError
from toolwire._json import dumps
from toolwire._sources import load_sources
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool
from toolwire.dialects._export import EXPORT_DIALECTS
from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA
from toolwire.grammar import SYNTAXES, GrammarWarning, build


def load_tools(sources: Iterable[str]) -> Toolbox:
    """Build one toolbox from ``--tools`` sources (the seed's tool when there are none)."""
    sources = list(sources)
    if not sources:
        return Toolbox([Tool.from_schema(SEED_GET_WEATHER_SCHEMA)])
    try:
        found = asyncio.run(load_sources(sources))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tools") from None
    return Toolbox(found)


_TOOLS_OPTION = click.option(
    "--tools",
    "sources",
    multiple=True,
    metavar="SOURCE",
    help="module:attr, path.py[:attr], openapi:URL, grpc:HOST:PORT, mcp:URL, sql:URL, weather "
    "(repeatable). Default: the seed's get_weather.",
)


@click.group()
def tools() -> None:
    """List tools, export them to a model dialect, or print their call grammar."""


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


@tools.command("grammar")
@_TOOLS_OPTION
@click.option(
    "--format",
    "format_",
    default="json",
    show_default=True,
    help="The call format: json, or a text format (hermes, qwen3_coder, mistral, llama3_json...).",
)
@click.option(
    "--syntax",
    type=click.Choice(SYNTAXES),
    default="lark",
    show_default=True,
    help="lark (llguidance), gbnf (llama.cpp), json_schema, structural_tag (vLLM/SGLang).",
)
@click.option(
    "--tool-choice",
    default="auto",
    show_default=True,
    help="auto, required, none, or one tool's name.",
)
@click.option("--no-parallel", is_flag=True, help="At most one call.")
def grammar_tools(
    sources: tuple[str, ...], format_: str, syntax: str, tool_choice: str, no_parallel: bool
) -> None:
    """Print the grammar that lets a model write only valid calls to the tools.

    Constraints the syntax cannot express are listed on stderr (the grammar leaves them open).
    """
    box = load_tools(sources)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GrammarWarning)
        try:
            built = build(
                box,
                format=format_,
                syntax=syntax,
                tool_choice=tool_choice,
                parallel=not no_parallel,
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    for item in caught:
        click.echo(f"warning: {item.message}", err=True)
    if isinstance(built, dict):
        click.echo(json.dumps(built, indent=2, ensure_ascii=False))
    else:
        click.echo(built, nl=False)
