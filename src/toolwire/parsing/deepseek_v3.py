"""DeepSeek V3 / R1: calls between full-width-bar special tokens, arguments in a JSON fence.

``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f`` newline, a ```json fenced
object, ``<｜tool▁call▁end｜>`` ... ``<｜tool▁calls▁end｜>``. The routine here also reads the
V3.1 layout (``f<｜tool▁sep｜>{...}``, see ``deepseek_v31``): the text before the separator tells
them apart (V3 always writes the type ``function`` there).
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Peek, Run, Sections, Starts, Until
from toolwire.parsing._jsonops import JsonArgs
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonArguments

__all__ = ["FORMAT", "DeepSeekV3", "calls_section"]

CALLS = "<｜tool▁calls▁begin｜>"
CALLS_END = "<｜tool▁calls▁end｜>"
CALL = "<｜tool▁call▁begin｜>"
CALL_END = "<｜tool▁call▁end｜>"
SEP = "<｜tool▁sep｜>"
FENCE = "```"


def calls_section(eng: Engine) -> Run:
    """After ``<｜tool▁calls▁begin｜>``: each call, until the section ends."""
    opened = True
    while True:
        between = Until((CALL, CALLS_END, CALLS), "collect")
        m = yield between
        if m != CALL and opened and m != CALLS_END:
            # the section opened and nothing readable followed (cut off, or no call token):
            # its text, marker included, is kept
            eng.fail_call(None, "a DeepSeek tool-call section without a call", CALLS + between.text)
        else:
            eng.stray(between.text, "between calls")
        opened = False
        if m != CALL:
            if m == CALLS:
                eng.unread(CALLS)
            return
        head = Until((SEP, CALL_END, CALLS_END), "collect")
        if (yield head) != SEP:
            eng.fail_call(None, "a DeepSeek tool call without a separator", head.text)
            if head.text:
                continue
            return
        first = head.text.strip()
        if first == "function":  # V3: the name runs to the end of the line
            name_part = Until(("\n", FENCE, "{", CALL_END), "collect", consume=False)
            yield name_part
            name = name_part.text.strip()
            yield Peek()
            if (yield Starts(FENCE)):
                yield Until(("\n", "{"), "drop", consume=False)
        else:
            name = first
        if not name:
            eng.fail_call(None, "a DeepSeek tool call without a name", head.text)
            continue
        yield JsonArgs(eng.start_call(name), (FENCE, CALL_END, CALLS_END))
        if (yield Until((CALL_END, CALL, CALLS_END), "drop", consume=False)) == CALL_END:
            yield Until((CALL_END,), "drop")


class DeepSeekV3(Sections):
    name = "deepseek_v3"
    markers = (CALLS,)

    def section(self, eng: Engine, marker: str) -> Run:
        return calls_section(eng)


FORMAT = TextFormat(
    name="deepseek_v3",
    parser=DeepSeekV3,
    family="DeepSeek V3, R1",
    markers=(CALLS, CALL, SEP, CALL_END, CALLS_END),
    aliases=("deepseekv3",),
    peers={"vllm": ("deepseek_v3",), "sglang": ("deepseekv3",)},
    call=CallShape(
        layout=JsonArguments(),
        begin=CALLS,
        call_open=CALL + "function" + SEP + "{name}\n```json\n",
        call_close="\n```" + CALL_END,
        separator="\n",
        end=CALLS_END,
    ),
    # the reader tells V3 from V3.1 by what precedes the separator: one cue reads both
    cues=(Cue(marker=CALLS, read=lambda eng, m: calls_section(eng)),),
    reasoning=True,
    quirks="the type `function` before the separator, the name after it, arguments in a "
    "```json fence",
)
