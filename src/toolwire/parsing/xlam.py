"""Salesforce xLAM: a bare JSON array of ``{"name", "arguments"}`` objects.

Recognised at the start of the output, right after ``</think>``, inside a ```json fence, or
after ``[TOOL_CALLS]`` / inside ``<tool_call>`` tags. A JSON value holding no call is content.
"""

from __future__ import annotations

from toolwire.parsing._base import (
    THINK_CLOSE,
    THINK_OPEN,
    Engine,
    Format,
    Run,
    Until,
    first_char,
)
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "Xlam", "fenced_calls"]

FENCE = "```json"
FENCE_END = "```"
TC = "[TOOL_CALLS]"
TAG = "<tool_call>"
TAG_END = "</tool_call>"


class Xlam(Format):
    name = "xlam"
    markers = (FENCE, TC)

    def run(self, eng: Engine) -> Run:
        at_start = True
        while True:
            if at_start:
                ch = yield from first_char(eng)
                if ch in ("[", "{"):
                    yield JsonCalls(non_call="content")
            m = yield Until((THINK_OPEN, THINK_CLOSE, FENCE, TC, TAG), "content")
            at_start = False
            if m is None:
                return
            if m == THINK_OPEN:
                yield Until((THINK_CLOSE,), "reasoning")
                at_start = True
            elif m == THINK_CLOSE:
                at_start = True
            elif m == FENCE:
                yield from fenced_calls(eng)
            elif m == TC:
                yield JsonCalls(non_call="error")
            else:
                yield JsonCalls((TAG_END,), non_call="error")
                yield Until((TAG_END,), "drop")


def fenced_calls(eng: Engine) -> Run:
    """After a ```json fence: calls, or (holding none) the fenced text kept as content."""
    n = yield JsonCalls((FENCE_END,), non_call="content", prefix=FENCE)
    yield Until((FENCE_END,), "drop" if n else "content")
    if not n:
        eng.content(FENCE_END)


def _bare(eng: Engine, marker: str) -> Run:
    yield JsonCalls(non_call="content")  # auto put the "[" back


FORMAT = TextFormat(
    name="xlam",
    parser=Xlam,
    family="Salesforce xLAM",
    markers=(FENCE, TC),
    peers={"vllm": ("xlam",)},
    call=CallShape(
        layout=JsonObject(),
        begin="[",
        separator=", ",
        end="]",
        begin_after_text=FENCE + "\n[",
        end_after_text="]\n" + FENCE_END,
    ),
    cues=(
        Cue(marker=FENCE, read=lambda eng, m: fenced_calls(eng)),
        Cue(marker="[", first="{", at_start=True, read=_bare),
    ),
    reasoning=True,
    quirks="a bare list at the start or right after `</think>`, a ```json fence, or after "
    "`[TOOL_CALLS]` / inside `<tool_call>`",
)
