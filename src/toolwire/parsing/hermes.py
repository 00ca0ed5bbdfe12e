"""Hermes / Qwen 2.5-3: ``<tool_call>{"name": "f", "arguments": {...}}</tool_call>``, repeated."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Peek, Run, Sections, Starts, Until
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._prompting import hermes_results, hermes_tools
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "Hermes", "hermes_block"]

OPEN = "<tool_call>"
CLOSE = "</tool_call>"


class Hermes(Sections):
    """Each call is a JSON object (or a list of them) between ``<tool_call>`` tags."""

    name = "hermes"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return hermes_block(eng)


def hermes_block(eng: Engine, open: str = OPEN, close: str = CLOSE) -> Run:
    """After ``<tool_call>`` (or a family's ``open``): the JSON, then up to and including the
    close tag.

    Several objects in one block (``{A}, {B}``, with or without the comma) are several calls;
    other text before the close tag is reported, never dropped.
    """
    ends = (close, open)
    yield JsonCalls(ends, non_call="error")
    while True:
        peek = Peek()
        ch = yield peek
        if ch == ",":
            yield Starts(",")
            after = Peek()
            if (yield after) in ("{", "["):
                yield JsonCalls(ends, non_call="error")
                continue
            eng.unread("," + after.ws)
            break
        if ch in ("{", "["):
            yield JsonCalls(ends, non_call="error")
            continue
        eng.unread(peek.ws)
        break
    rest = Until(ends, "collect")
    if (yield rest) == open:
        eng.unread(open)
    eng.stray(rest.text, f"inside {open}")


FORMAT = TextFormat(
    name="hermes",
    parser=Hermes,
    family="Hermes 2 Pro / 3, Qwen 2.5, Qwen 3, ERNIE 4.5, Granite 4",
    markers=(OPEN, CLOSE),
    aliases=("qwen", "qwen25", "ernie45", "granite4"),
    peers={"vllm": ("hermes", "ernie45", "granite4"), "sglang": ("hermes", "qwen", "qwen25")},
    call=CallShape(
        layout=JsonObject(),
        call_open=OPEN + "\n",
        call_close="\n" + CLOSE,
        separator="\n",
    ),
    prompt=hermes_tools,
    results=hermes_results,
    cues=(Cue(marker=OPEN, first="{[", read=lambda eng, m: hermes_block(eng)),),
    reasoning=True,
    quirks="a JSON list of calls inside one block is read too; arguments given as a JSON "
    "string are decoded",
)
