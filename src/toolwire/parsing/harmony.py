"""OpenAI Harmony (gpt-oss): messages ``<|start|>assistant<|channel|>C ...<|message|>BODY<|end|>``.

The header (between ``<|start|>`` and ``<|message|>``) names the channel and, for a tool call,
the recipient ``to=functions.f`` — before or after ``<|channel|>``. ``analysis`` is reasoning,
``final`` (or no channel) is content, a message with a recipient is a call whose body is the
JSON arguments; ``<|end|>``, ``<|call|>`` and ``<|return|>`` end a message. The first message
may lack ``<|start|>assistant`` (the prompt already ended with it).
"""

from __future__ import annotations

import re

from toolwire.parsing._base import Engine, Format, Run, Sink, Until
from toolwire.parsing._jsonops import JsonArgs
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonArguments

__all__ = ["FORMAT", "Harmony"]

START = "<|start|>"
CHANNEL = "<|channel|>"
MESSAGE = "<|message|>"
ENDS = ("<|end|>", "<|call|>", "<|return|>")

_TO = re.compile(r"(?:^|\s|>)to=(\S+?)(?=\s|<\||$)")
_CHANNEL = re.compile(r"<\|channel\|>\s*([A-Za-z_]+)")


class Harmony(Format):
    name = "harmony"
    markers = (CHANNEL, START)

    def run(self, eng: Engine) -> Run:
        while True:
            m = yield Until((START, CHANNEL, MESSAGE, *ENDS), "content")
            if m is None:
                return
            if m in ENDS:  # a stray terminator
                continue
            header = ""
            if m != MESSAGE:
                head = Until((MESSAGE, START), "collect")
                m2 = yield head
                header = (CHANNEL if m == CHANNEL else "") + head.text
                if m2 != MESSAGE:  # a header that never got a body
                    if m2 == START:
                        eng.unread(START)
                    continue
            yield from self._body(eng, header)

    def _body(self, eng: Engine, header: str) -> Run:
        to = _TO.search(header)
        ch = _CHANNEL.search(header)
        channel = ch.group(1) if ch is not None else ""
        if to is not None:
            recipient = to.group(1)
            name = recipient.removeprefix("functions.")
            yield JsonArgs(eng.start_call(name), (*ENDS, START))
            end = yield Until((*ENDS, START), "drop", consume=False)
        else:
            sink: Sink = "reasoning" if channel == "analysis" else "content"
            end = yield Until((*ENDS, START), sink, consume=False)
        if end is not None and end != START:
            yield Until(ENDS, "drop")


def _rest(eng: Engine, marker: str) -> Run:
    return Harmony().run(eng)


FORMAT = TextFormat(
    name="harmony",
    parser=Harmony,
    family="gpt-oss (OpenAI Harmony)",
    markers=(START, CHANNEL, MESSAGE, *ENDS),
    aliases=("openai", "gpt-oss"),
    peers={"vllm": ("openai",), "sglang": ("gpt-oss",)},
    call=CallShape(
        layout=JsonArguments(),
        call_open=START
        + "assistant"
        + CHANNEL
        + "commentary to=functions.{name} <|constrain|>json"
        + MESSAGE,
        call_close="<|call|>",
    ),
    cues=(
        Cue(marker=CHANNEL, takes_over=True, read=_rest),
        Cue(marker=START, takes_over=True, read=_rest),
    ),
    reasoning=True,
    quirks="the analysis channel is reasoning; the first message may lack "
    "`<|start|>assistant` (the prompt ended with it)",
)
