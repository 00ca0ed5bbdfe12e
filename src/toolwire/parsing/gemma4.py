"""Gemma 4: ``<|tool_call>call:name{key:<|"|>text<|"|>,n:3}<tool_call|>`` per call.

Strings are wrapped in ``<|"|>``; numbers, booleans, objects and arrays are bare (see
:mod:`toolwire.parsing._gemma`). A call cut before its close token is kept when its arguments
are whole (``repaired``).
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._gemma import GemmaSyntax, gemma_call
from toolwire.parsing._record import Cue, TextFormat

__all__ = ["FORMAT", "Gemma4"]

SYNTAX = GemmaSyntax(open="<|tool_call>", close="<tool_call|>", delim='<|"|>')


def gemma4_call(eng: Engine, marker: str = SYNTAX.open) -> Run:
    return gemma_call(eng, SYNTAX)


class Gemma4(Sections):
    name = "gemma4"
    markers = (SYNTAX.open,)

    def section(self, eng: Engine, marker: str) -> Run:
        return gemma4_call(eng)


FORMAT = TextFormat(
    name="gemma4",
    parser=Gemma4,
    family="Gemma 4 (Google)",
    markers=(SYNTAX.open, SYNTAX.close, SYNTAX.delim),
    peers={"vllm": ("gemma4",), "sglang": ("gemma4",)},
    cues=(Cue(marker=SYNTAX.open, read=gemma4_call),),
    quirks='`call:name{key:value}`; strings between `<|"|>`, other values bare',
)
