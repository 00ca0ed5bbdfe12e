"""AI21 Jamba: ``<tool_calls>[{"name": "f", "arguments": {...}}]</tool_calls>``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["Jamba", "jamba_block"]

OPEN = "<tool_calls>"
CLOSE = "</tool_calls>"


class Jamba(Sections):
    name = "jamba"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return jamba_block(eng)


def jamba_block(eng: Engine) -> Run:
    yield JsonCalls((CLOSE,), non_call="error")
    yield Until((CLOSE,), "drop")
