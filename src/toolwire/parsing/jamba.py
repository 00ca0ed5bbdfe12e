"""AI21 Jamba: ``<tool_calls>[{"name": "f", "arguments": {...}}]</tool_calls>``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "Jamba", "jamba_block"]

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


FORMAT = TextFormat(
    name="jamba",
    parser=Jamba,
    family="AI21 Jamba 1.5 / 1.6, Hunyuan-A13B",
    markers=(OPEN, CLOSE),
    aliases=("hunyuan_a13b",),
    peers={"vllm": ("jamba", "hunyuan_a13b")},
    call=CallShape(layout=JsonObject(), begin=OPEN + "[", separator=", ", end="]" + CLOSE),
    cues=(Cue(marker=OPEN, read=lambda eng, m: jamba_block(eng)),),
)
