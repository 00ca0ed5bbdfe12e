"""Calls written back as text, the way each text format's prompt asks the model to write them.

A text-mode model reads its own earlier turns as plain text. When a turn was made by another
model (a :class:`~toolwire.Router` switched routes), its calls are rendered in the family's
format (the record's :class:`~toolwire.parsing.CallShape`) so the text-mode model sees what it
would have written; :mod:`toolwire.parsing` reads them back to the same names and arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolwire._calls import ToolCall
from toolwire.parsing import text_format as _record

__all__ = ["write_calls"]


def write_calls(calls: Sequence[ToolCall], content: str, text_format: str) -> str:
    """``content`` followed by ``calls`` in ``text_format``; ValueError when not writable."""
    return _record(text_format).write_calls(calls, content)
