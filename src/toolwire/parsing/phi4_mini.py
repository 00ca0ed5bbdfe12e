"""Phi-4-mini: ``functools[{"name": "f", "arguments": {...}}, ...]``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "Phi4Mini"]

TAG = "functools["


class Phi4Mini(Sections):
    name = "phi4_mini"
    markers = (TAG,)

    def section(self, eng: Engine, marker: str) -> Run:
        return functools_list(eng, marker)


def functools_list(eng: Engine, marker: str) -> Run:
    eng.unread("[")  # the marker's bracket opens the list
    yield JsonCalls(non_call="error")


FORMAT = TextFormat(
    name="phi4_mini",
    parser=Phi4Mini,
    family="Phi-4-mini",
    markers=(TAG,),
    aliases=("phi4_mini_json",),
    peers={"vllm": ("phi4_mini_json",)},
    call=CallShape(layout=JsonObject(), begin=TAG, separator=", ", end="]"),
    cues=(Cue(marker=TAG, read=functools_list),),
    quirks="only `functools[` is a marker: the word alone is content",
)
