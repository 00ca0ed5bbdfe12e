"""LongCat-Flash (Meituan): Hermes' JSON calls between ``<longcat_tool_call>`` tags.

<longcat_tool_call>
{"name": "get_weather", "arguments": {"city": "Paris"}}
</longcat_tool_call>
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject
from toolwire.parsing.hermes import hermes_block

__all__ = ["FORMAT", "Longcat"]

OPEN = "<longcat_tool_call>"
CLOSE = "</longcat_tool_call>"


def longcat_block(eng: Engine, marker: str = OPEN) -> Run:
    return hermes_block(eng, OPEN, CLOSE)


class Longcat(Sections):
    name = "longcat"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return longcat_block(eng)


FORMAT = TextFormat(
    name="longcat",
    parser=Longcat,
    family="LongCat-Flash (Meituan)",
    markers=(OPEN, CLOSE),
    peers={"vllm": ("longcat",)},
    call=CallShape(
        layout=JsonObject(), call_open=OPEN + "\n", call_close="\n" + CLOSE, separator="\n"
    ),
    cues=(Cue(marker=OPEN, read=longcat_block),),
    reasoning=True,
    quirks="Hermes' JSON in its own tags",
)
