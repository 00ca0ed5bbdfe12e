"""InternLM 2.5: ``<|action_start|><|plugin|>{"name": "f", "parameters": {...}}<|action_end|>``.

Other actions (``<|interpreter|>`` code) are not tool calls: they stay content.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Peek, Run, Sections, Starts, Until
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "InternLM", "internlm_action"]

START = "<|action_start|>"
PLUGIN = "<|plugin|>"
END = "<|action_end|>"


class InternLM(Sections):
    name = "internlm"
    markers = (START,)

    def section(self, eng: Engine, marker: str) -> Run:
        return internlm_action(eng)


def internlm_action(eng: Engine) -> Run:
    """After ``<|action_start|>``: a plugin call, or another action kept as content."""
    yield Peek()
    if not (yield Starts(PLUGIN)):
        eng.content(START)
        return
    yield JsonCalls((END,), non_call="error")
    yield Until((END,), "drop")


FORMAT = TextFormat(
    name="internlm",
    parser=InternLM,
    family="InternLM 2.5",
    markers=(START, PLUGIN, END),
    aliases=("interns1",),
    peers={"vllm": ("internlm",), "sglang": ("interns1",)},
    call=CallShape(
        layout=JsonObject(arguments_key="parameters"),
        call_open=START + PLUGIN + "\n",
        call_close=END,
        separator="\n",
    ),
    cues=(Cue(marker=START, read=lambda eng, m: internlm_action(eng)),),
    quirks="other actions (`<|interpreter|>` code) stay content",
)
