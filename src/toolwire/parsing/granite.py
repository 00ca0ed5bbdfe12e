"""IBM Granite: ``<|tool_call|>[{"name": "f", "arguments": {...}}, ...]``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["Granite"]

TAG = "<|tool_call|>"
ALT = "<tool_call>"  # Granite 3.0 wrote this one


class Granite(Sections):
    name = "granite"
    markers = (TAG,)
    opens = (TAG, ALT)

    def section(self, eng: Engine, marker: str) -> Run:
        yield JsonCalls(non_call="error")
