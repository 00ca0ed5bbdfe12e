"""MiniMax-M2: ``<minimax:tool_call>`` holding ``<invoke name="f">`` elements, one
``<parameter name="a">`` per argument, values as text typed by the tool's schema.

    <minimax:tool_call>
    <invoke name="get_weather">
    <parameter name="city">Paris</parameter>
    </invoke>
    </minimax:tool_call>

Reasoning is ``<think>...</think>`` (the template keeps it in the content; here it is split off).
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._invoke import InvokeTags, invoke_calls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["FORMAT", "MinimaxM2"]

OPEN = "<minimax:tool_call>"
CLOSE = "</minimax:tool_call>"
TAGS = InvokeTags(
    invokes=("<invoke name=",),
    invoke_ends=("</invoke>",),
    params=("<parameter name=",),
    param_ends=("</parameter>",),
)


def minimax_section(eng: Engine, marker: str = OPEN) -> Run:
    yield from invoke_calls(eng, TAGS, (CLOSE,))


class MinimaxM2(Sections):
    name = "minimax_m2"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return minimax_section(eng)


FORMAT = TextFormat(
    name="minimax_m2",
    parser=MinimaxM2,
    family="MiniMax-M2, M2.1",
    markers=(OPEN, '<invoke name="', '<parameter name="', "</parameter>", "</invoke>", CLOSE),
    aliases=("minimax-m2",),
    peers={"vllm": ("minimax_m2",), "sglang": ("minimax-m2",)},
    call=CallShape(
        layout=TaggedParameters(
            open='<parameter name="{key}">', close="</parameter>\n", trimmed=True
        ),
        begin=OPEN + "\n",
        call_open='<invoke name="{name}">\n',
        call_close="</invoke>\n",
        end=CLOSE,
    ),
    cues=(Cue(marker=OPEN, read=minimax_section),),
    reasoning=True,
    quirks="values are text typed by the tool's schema; several invokes in one section",
)
