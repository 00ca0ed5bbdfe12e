"""IBM Granite: ``<|tool_call|>[{"name": "f", "arguments": {...}}, ...]``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "Granite"]

TAG = "<|tool_call|>"
ALT = "<tool_call>"  # Granite 3.0 wrote this one


class Granite(Sections):
    name = "granite"
    markers = (TAG,)
    opens = (TAG, ALT)

    def section(self, eng: Engine, marker: str) -> Run:
        yield JsonCalls(non_call="error")


def _calls(eng: Engine, marker: str) -> Run:
    yield JsonCalls(non_call="error")


FORMAT = TextFormat(
    name="granite",
    parser=Granite,
    family="IBM Granite 3.x",
    markers=(TAG,),
    peers={"vllm": ("granite",)},
    call=CallShape(layout=JsonObject(), begin=TAG + "[", separator=", ", end="]"),
    cues=(Cue(marker=TAG, read=_calls),),
    quirks="Granite 3.0's `<tool_call>[...]` is read too",
)
