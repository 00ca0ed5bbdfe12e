"""Phi-4-mini: ``functools[{"name": "f", "arguments": {...}}, ...]``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["Phi4Mini"]

TAG = "functools["


class Phi4Mini(Sections):
    name = "phi4_mini"
    markers = (TAG,)

    def section(self, eng: Engine, marker: str) -> Run:
        eng.unread("[")  # the marker's bracket opens the list
        yield JsonCalls(non_call="error")
