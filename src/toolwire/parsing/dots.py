"""dots.llm (rednote): ``<invoke>`` elements, or one JSON call, inside ``<dots_function_call>``.

    <dots_function_call>
    <invoke name="search">
    <parameter name="query">weather in Shanghai</parameter>
    </invoke>
    </dots_function_call>

Names may be quoted or not; values are text typed by the tool's schema.
"""

from __future__ import annotations

import dataclasses

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._invoke import invoke_calls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing.minimax_m2 import FORMAT as MINIMAX
from toolwire.parsing.minimax_m2 import TAGS as MINIMAX_TAGS

__all__ = ["FORMAT", "Dots"]

OPEN = "<dots_function_call>"
CLOSE = "</dots_function_call>"
TAGS = dataclasses.replace(MINIMAX_TAGS, json=True)  # MiniMax's elements, or JSON


def dots_section(eng: Engine, marker: str = OPEN) -> Run:
    yield from invoke_calls(eng, TAGS, (CLOSE,))


class Dots(Sections):
    name = "dots"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return dots_section(eng)


FORMAT = TextFormat(
    name="dots",
    parser=Dots,
    family="dots.llm (rednote)",
    markers=(OPEN, "<invoke name=", CLOSE),
    peers={"sglang": ("dots",)},
    call=dataclasses.replace(MINIMAX.call, begin=OPEN + "\n", end=CLOSE)
    if MINIMAX.call is not None
    else None,
    cues=(Cue(marker=OPEN, read=dots_section),),
    reasoning=True,
    quirks="MiniMax-style invokes, or a JSON call object, in its own section",
)
