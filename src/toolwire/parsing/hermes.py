"""Hermes / Qwen 2.5-3: ``<tool_call>{"name": "f", "arguments": {...}}</tool_call>``, repeated."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["Hermes", "hermes_block"]

OPEN = "<tool_call>"
CLOSE = "</tool_call>"


class Hermes(Sections):
    """Each call is a JSON object (or a list of them) between ``<tool_call>`` tags."""

    name = "hermes"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return hermes_block(eng)


def hermes_block(eng: Engine) -> Run:
    """After ``<tool_call>``: the JSON, then up to and including ``</tool_call>``."""
    yield JsonCalls((CLOSE, OPEN), non_call="error")
    if (yield Until((CLOSE, OPEN), "drop")) == OPEN:
        eng.unread(OPEN)
