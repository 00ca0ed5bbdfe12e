"""Step-3 (StepFun): DeepSeek-style section tokens around ``<steptml:invoke>`` elements.

    <｜tool_calls_begin｜><｜tool_call_begin｜>function<｜tool_sep｜><steptml:invoke name="f">
    <steptml:parameter name="a">1</steptml:parameter>
    </steptml:invoke><｜tool_call_end｜><｜tool_calls_end｜>

(Half-width ``_`` in the token names, unlike DeepSeek's ``▁``.) Values are text typed by the
tool's schema. Step-3.5 writes Qwen3-Coder's format instead (``step3p5`` is that format's name).
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._invoke import InvokeTags, invoke_calls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["FORMAT", "Step3"]

CALLS = "<｜tool_calls_begin｜>"
CALLS_END = "<｜tool_calls_end｜>"
CALL = "<｜tool_call_begin｜>"
CALL_END = "<｜tool_call_end｜>"
SEP = "<｜tool_sep｜>"
TAGS = InvokeTags(
    invokes=("<steptml:invoke name=",),
    invoke_ends=("</steptml:invoke>",),
    params=("<steptml:parameter name=",),
    param_ends=("</steptml:parameter>",),
)


def step3_section(eng: Engine, marker: str = CALLS) -> Run:
    """After ``<｜tool_calls_begin｜>``: each ``<｜tool_call_begin｜>type<｜tool_sep｜>`` call."""
    while True:
        between = Until((CALL, CALLS_END), "collect")
        m = yield between
        eng.stray(between.text, "between calls")
        if m != CALL:
            return
        head = Until((SEP, CALL_END, CALLS_END), "collect")
        m = yield head
        if m == SEP and head.text.strip() == "function":
            m = yield from invoke_calls(eng, TAGS, (CALL_END, CALLS_END))
        else:
            rest = Until((CALL_END, CALLS_END), "collect")
            if m == SEP:
                m = yield rest
            eng.fail_call(None, "a Step-3 tool call that is not a function", head.text + rest.text)
        if m != CALL_END:
            return


class Step3(Sections):
    name = "step3"
    markers = (CALLS,)

    def section(self, eng: Engine, marker: str) -> Run:
        return step3_section(eng)


FORMAT = TextFormat(
    name="step3",
    parser=Step3,
    family="Step-3 (StepFun)",
    markers=(CALLS, CALL, SEP, '<steptml:invoke name="', CALL_END, CALLS_END),
    peers={"vllm": ("step3",), "sglang": ("step3",)},
    call=CallShape(
        layout=TaggedParameters(
            open='<steptml:parameter name="{key}">', close="</steptml:parameter>", trimmed=True
        ),
        begin=CALLS,
        call_open=CALL + "function" + SEP + '<steptml:invoke name="{name}">',
        call_close="</steptml:invoke>" + CALL_END,
        end=CALLS_END,
    ),
    cues=(Cue(marker=CALLS, read=step3_section),),
    reasoning=True,
    quirks="the invoke ends at `<｜tool_call_end｜>`; a non-`function` type is an error",
)
