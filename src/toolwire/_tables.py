"""Checking the keys of option tables (``toolwire.toml`` tables, ``[[sources]]`` entries).

A misspelt key must never be ignored: ``[auth] api_key = [...]`` for ``api_keys`` would
start a server with authentication off. Every table that options are read from is checked
against the keys its reader knows, and the error names where, which key, and the closest
known one.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any


def unknown_key_message(key: str, allowed: Collection[str], where: str) -> str:
    """``where: unknown key 'api_key' (did you mean 'api_keys'?); known keys: ...``.

    Example::

        >>> unknown_key_message("prot", ["host", "port"], "toolwire.toml [server]")
        "toolwire.toml [server]: unknown key 'prot' (did you mean 'port'?); known keys: host, port"
    """
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    known = ", ".join(sorted(allowed)) or "none"
    return f"{where}: unknown key {key!r}{hint}; known keys: {known}"


def check_keys(
    table: Mapping[str, Any],
    allowed: Collection[str],
    where: str,
    *,
    error: type[ValueError] = ValueError,
) -> None:
    """Raise ``error`` naming the first key of ``table`` (in file order) not in ``allowed``."""
    for key in table:
        if key not in allowed:
            raise error(unknown_key_message(str(key), allowed, where))
