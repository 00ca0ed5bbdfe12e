"""Granite 20B function calling: each call a JSON object after ``<function_call>``.

<function_call> {"name": "get_weather", "arguments": {"city": "Paris"}}
<function_call> {"name": "get_time", "arguments": {}}
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "Granite20bFc"]

TAG = "<function_call>"


def fc_call(eng: Engine, marker: str = TAG) -> Run:
    yield JsonCalls((TAG,), non_call="error")


class Granite20bFc(Sections):
    name = "granite_20b_fc"
    markers = (TAG,)

    def section(self, eng: Engine, marker: str) -> Run:
        return fc_call(eng)


FORMAT = TextFormat(
    name="granite_20b_fc",
    parser=Granite20bFc,
    family="Granite 20B FunctionCalling (IBM)",
    markers=(TAG,),
    aliases=("granite-20b-fc",),
    peers={"vllm": ("granite-20b-fc",)},
    call=CallShape(layout=JsonObject(), call_open=TAG + " ", separator="\n"),
    cues=(Cue(marker=TAG, read=fc_call),),
    quirks="no closing tag: the next `<function_call>` or the end ends a call",
)
