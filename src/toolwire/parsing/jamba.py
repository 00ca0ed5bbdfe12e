"""AI21 Jamba: ``<tool_calls>[{"name": "f", "arguments": {...}}]</tool_calls>``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Run, Until, content_until
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["Jamba", "jamba_block"]

OPEN = "<tool_calls>"
CLOSE = "</tool_calls>"


class Jamba(Format):
    name = "jamba"
    markers = (OPEN,)

    def run(self, eng: Engine) -> Run:
        while True:
            m = yield from content_until(eng, (OPEN,))
            if m is None:
                return
            yield from jamba_block(eng)


def jamba_block(eng: Engine) -> Run:
    yield JsonCalls((CLOSE,), non_call="error")
    yield Until((CLOSE,), "drop")
