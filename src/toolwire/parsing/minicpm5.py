"""MiniCPM 5 (OpenBMB): bare ``<function name="f">`` elements with ``<param name="k">`` values.

    <function name="get_weather"><param name="city">北京</param></function>

A value may be XML character data (``<![CDATA[multi-line text]]>``); values are typed by the
tool's schema.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._invoke import InvokeTags, invoke_one
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["FORMAT", "MiniCPM5"]

OPEN = "<function name="
TAGS = InvokeTags(
    invokes=(OPEN,),
    invoke_ends=("</function>",),
    params=("<param name=",),
    param_ends=("</param>",),
)


def minicpm_call(eng: Engine, marker: str = OPEN) -> Run:
    return invoke_one(eng, TAGS)


class MiniCPM5(Sections):
    name = "minicpm5"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return minicpm_call(eng)


FORMAT = TextFormat(
    name="minicpm5",
    parser=MiniCPM5,
    family="MiniCPM 4 / 5 (OpenBMB)",
    markers=('<function name="', '<param name="', "</function>"),
    peers={"vllm": ("minicpm5",), "sglang": ("minicpm5",)},
    call=CallShape(
        layout=TaggedParameters(open='<param name="{key}">', close="</param>", trimmed=True),
        call_open='<function name="{name}">',
        call_close="</function>",
    ),
    cues=(Cue(marker=OPEN, read=minicpm_call),),
    reasoning=True,
    quirks="no section tag; CDATA values",
)
