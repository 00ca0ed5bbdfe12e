"""``toolwire keys new | hash``: API keys for ``[auth] api_keys`` in toolwire.toml.

The server stores only ``sha256:`` digests; ``new`` prints a fresh key once (give it to the
client) with the table entry to paste into the file, ``hash`` the digest of a key you have.
"""

from __future__ import annotations

import json
import sys

import click

from toolwire.serve._auth import hash_api_key, new_api_key


@click.group()
def keys() -> None:
    """Make API keys and their digests for [auth] api_keys."""


@keys.command()
@click.option("--id", "key_id", default="client", show_default=True, help="The caller's id.")
@click.option("--scope", "scopes", multiple=True, help="A scope the key grants (repeatable).")
def new(key_id: str, scopes: tuple[str, ...]) -> None:
    """Print a new random key, its digest and the api_keys entry for toolwire.toml."""
    key = new_api_key()
    digest = hash_api_key(key)
    entry = f"{{ id = {json.dumps(key_id)}, hash = {json.dumps(digest)}"
    if scopes:
        entry += f", scopes = {json.dumps(list(scopes))}"
    click.echo(f"key:   {key}\nhash:  {digest}\nentry: {entry} }}")
    click.echo("(the key is shown only now: the server keeps the hash)", err=True)


@keys.command("hash")
@click.argument("key", required=False)
def hash_(key: str | None) -> None:
    """Print the digest of KEY (read from stdin when KEY is omitted or '-', which keeps it
    out of the shell's history)."""
    if key is None or key == "-":
        key = sys.stdin.readline().strip()
    if not key:
        raise click.UsageError("no key given (pass KEY, or send it on stdin)")
    click.echo(hash_api_key(key))
