"""Muse Glimmer: messages with a recipient header; a tool's message holds ATEM invokes.

    to=functions<|message|><atem:function_calls>
    <atem:invoke name="get_weather">
    <atem:parameter name="city">Paris</atem:parameter>
    </atem:invoke>
    </atem:function_calls><|eom|>

A message is ``[<|start|>]HEADER<|message|>BODY`` ended by ``<|eom|>`` or ``<|eot|>``; the
header's ``to=`` names the recipient (``self``: the model's own reasoning; ``user`` or none:
content). Framing tokens never reach the content. Values are JSON when they read as JSON,
else text (typed by the tool's schema when given).
"""

from __future__ import annotations

import re

from toolwire.parsing._auto import Opens
from toolwire.parsing._base import Engine, Format, Run, Sink, Until
from toolwire.parsing._invoke import InvokeTags, invoke_calls, invoke_one
from toolwire.parsing._record import Cue, TextFormat

__all__ = ["FORMAT", "Muse"]

START = "<|start|>"
MESSAGE = "<|message|>"
ENDS = ("<|eom|>", "<|eot|>")
CALLS = "<atem:function_calls>"
CALLS_END = "</atem:function_calls>"
INVOKE = "<atem:invoke name="
TAGS = InvokeTags(
    invokes=(INVOKE,),
    invoke_ends=("</atem:invoke>",),
    params=("<atem:parameter name=",),
    param_ends=("</atem:parameter>",),
    trim=False,
)
_TO = re.compile(r"to=([^\s<]+)")


def _sink_for(header: str) -> Sink:
    m = _TO.search(header)
    return "reasoning" if m is not None and m.group(1) == "self" else "content"


def muse_calls(eng: Engine, marker: str = CALLS) -> Run:
    yield from invoke_calls(eng, TAGS, (CALLS_END, *ENDS))


class Muse(Format):
    name = "muse"
    markers = (CALLS, MESSAGE)

    def run(self, eng: Engine) -> Run:
        sink: Sink = "content"
        # the first message's header may come without <|start|> (the prompt opened it)
        if (yield Opens(("to=",))) == "to=":
            header = Until((MESSAGE,), "collect")
            yield header
            sink = _sink_for("to=" + header.text)
        while True:
            m = yield Until((START, MESSAGE, *ENDS, CALLS, INVOKE), sink)
            if m is None:
                return
            if m == START:
                header = Until((MESSAGE, START), "collect")
                if (yield header) == START:
                    eng.unread(START)
                sink = _sink_for(header.text)
            elif m in ENDS:
                sink = "content"
            elif m == CALLS:
                yield from muse_calls(eng)
            elif m == INVOKE:
                yield from invoke_one(eng, TAGS, ENDS)


FORMAT = TextFormat(
    name="muse",
    parser=Muse,
    family="Muse Glimmer",
    markers=(MESSAGE, CALLS, '<atem:invoke name="', *ENDS),
    peers={"sglang": ("muse",)},
    cues=(Cue(marker=CALLS, read=muse_calls),),
    reasoning=True,
    quirks="messages with `to=` recipients; `to=self` is reasoning; ATEM invokes",
)
