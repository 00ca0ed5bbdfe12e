"""Where a text format's call layout comes from: its record in :mod:`toolwire.parsing`.

Each text format describes how its chat template writes calls in one
:class:`~toolwire.parsing.CallShape` (begin / end around a turn's calls, per-call open / close
holding ``{name}`` and ``{index}``, the separator, and the name/arguments layout). The format's
call writer and its grammar both read that one description, so they cannot disagree.
"""

from __future__ import annotations

from toolwire.parsing import ALIASES, TEXT_FORMATS, CallShape

__all__ = ["call_shape", "known_formats"]


def call_shape(format: str) -> CallShape | None:
    """The call layout of text format ``format`` or an alias (None: no such writable format)."""
    record = TEXT_FORMATS.get(format) or TEXT_FORMATS.get(ALIASES.get(format, ""))
    return None if record is None else record.call


def known_formats() -> list[str]:
    """Text formats (and their aliases) a grammar can be built for."""
    names = {name for name, record in TEXT_FORMATS.items() if record.call is not None}
    return sorted(names | {alias for alias, name in ALIASES.items() if name in names})
