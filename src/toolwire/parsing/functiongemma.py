"""FunctionGemma: ``<start_function_call>call:name{key:<escape>text<escape>}<end_function_call>``.

Gemma's call syntax with ``<escape>`` around strings. vLLM types an escaped value like a text
value (``<escape>42<escape>`` is 42), and so does this reader unless the schema says string.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._gemma import GemmaSyntax, gemma_call
from toolwire.parsing._record import Cue, TextFormat

__all__ = ["FORMAT", "FunctionGemma"]

SYNTAX = GemmaSyntax(
    open="<start_function_call>", close="<end_function_call>", delim="<escape>", typed_strings=True
)


def fg_call(eng: Engine, marker: str = SYNTAX.open) -> Run:
    return gemma_call(eng, SYNTAX)


class FunctionGemma(Sections):
    name = "functiongemma"
    markers = (SYNTAX.open,)

    def section(self, eng: Engine, marker: str) -> Run:
        return fg_call(eng)


FORMAT = TextFormat(
    name="functiongemma",
    parser=FunctionGemma,
    family="FunctionGemma 270M (Google)",
    markers=(SYNTAX.open, SYNTAX.close, SYNTAX.delim),
    peers={"vllm": ("functiongemma",)},
    cues=(Cue(marker=SYNTAX.open, read=fg_call),),
    quirks="`<escape>` strings are typed like text values",
)
