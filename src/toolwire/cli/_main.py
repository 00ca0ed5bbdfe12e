"""Entry point of the ``toolwire`` command.

Commands are registered by import path and loaded only when invoked, so ``toolwire --help``
stays fast and a command whose optional extra is missing fails alone, with the install hint.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> ("module:attribute", one-line help). The attribute is a click.Command.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("toolwire.cli._demo:demo", "Run the seed's weather scenario end to end, offline."),
    "chat": ("toolwire.cli._chat:chat", "Talk to a model that can call your tools."),
    "call": ("toolwire.cli._call:call", "Call one tool from the command line."),
    "tools": ("toolwire.cli._tools:tools", "List tools or export them to a model dialect."),
    "serve": ("toolwire.cli._serve:serve", "Serve tools over REST, gRPC and MCP."),
    "bench": ("toolwire.cli._bench:bench", "Run the benchmarks side by side with the peers."),
    "eval": ("toolwire.cli._eval:eval", "Score models on BFCL categories or your own cases."),
    "keys": ("toolwire.cli._keys:keys", "Make API keys (new) and their digests (hash)."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, _, attr = entry[0].partition(":")
        module = importlib.import_module(module_name)
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the registry so that --help imports no command module.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup)
@click.version_option(package_name="toolwire")
def cli() -> None:
    """toolwire: reliable function calling for language models."""


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    return cli.main(args=argv, prog_name="toolwire")
