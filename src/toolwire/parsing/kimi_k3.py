"""Kimi K3: XTML channels built from ``<|open|>``/``<|close|>``/``<|sep|>`` tokens.

    <|open|>think<|sep|>plan<|close|>think<|sep|>
    <|open|>response<|sep|>Checking.<|close|>response<|sep|>
    <|open|>tools<|sep|>
    <|open|>call tool="get_weather" index="1"<|sep|>
    <|open|>argument key="city" type="string"<|sep|>Paris<|close|>argument<|sep|>
    <|close|>call<|sep|>
    <|close|>tools<|sep|>

The think channel is reasoning (the template usually opens it in the prompt: use
``reasoning_open=True``), the response channel content; ``<|close|>message<|sep|>`` is framing.
An argument of ``type="string"`` is text, any other type JSON. Attribute values undo the
template's ``&quot;``/``&amp;``.
"""

from __future__ import annotations

import json
import re

from toolwire.parsing._base import Engine, Format, Run, Until
from toolwire.parsing._params import close_args, emit_param, emit_value
from toolwire.parsing._record import Cue, TextFormat

__all__ = ["FORMAT", "KimiK3"]

SEP = "<|sep|>"
THINK = f"<|open|>think{SEP}"
THINK_END = f"<|close|>think{SEP}"
RESPONSE = f"<|open|>response{SEP}"
RESPONSE_END = f"<|close|>response{SEP}"
TOOLS = f"<|open|>tools{SEP}"
TOOLS_END = f"<|close|>tools{SEP}"
MESSAGE_END = f"<|close|>message{SEP}"
CALL = "<|open|>call"
CALL_END = f"<|close|>call{SEP}"
ARG = "<|open|>argument"
ARG_END = f"<|close|>argument{SEP}"

_ATTR = re.compile(r'(\w+)="([^"]*)"')


def _attrs(text: str) -> dict[str, str]:
    return {k: v.replace("&quot;", '"').replace("&amp;", "&") for k, v in _ATTR.findall(text)}


def k3_tools(eng: Engine, marker: str = TOOLS) -> Run:
    """After ``<|open|>tools<|sep|>``: each call until the tools channel closes."""
    while True:
        between = Until((CALL, TOOLS_END), "collect")
        m = yield between
        eng.stray(between.text, "between calls")
        if m != CALL:
            return
        head = Until((SEP, CALL_END, TOOLS_END), "collect")
        m = yield head
        name = _attrs(head.text).get("tool", "")
        if m != SEP or not name:
            eng.fail_call(None, "a call without a tool name", CALL + head.text)
            if m == TOOLS_END:
                return
            continue
        call = eng.start_call(name)
        while True:
            gap = Until((ARG, CALL_END, TOOLS_END), "collect")
            m = yield gap
            eng.stray(gap.text, f"inside the call {name}")
            if m != ARG:
                break
            attrs = Until((SEP, CALL_END), "collect")
            if (yield attrs) != SEP:
                continue
            found = _attrs(attrs.text)
            value = Until((ARG_END, CALL_END, TOOLS_END), "collect", consume=False)
            if (yield value) == ARG_END:
                yield Until((ARG_END,), "drop")
            key, kind = found.get("key", ""), found.get("type", "")
            if kind == "string":
                emit_value(eng, call, key, value.text)
            else:
                try:  # the stdlib: integers beyond 64 bits stay exact
                    emit_value(eng, call, key, json.loads(value.text))
                except (ValueError, RecursionError):
                    emit_param(eng, call, key, value.text)
        close_args(eng, call)
        eng.finish_call(call)
        if m == TOOLS_END:
            return


class KimiK3(Format):
    name = "kimi_k3"
    markers = (TOOLS,)
    thinks = ((THINK, THINK_END),)

    def run(self, eng: Engine) -> Run:
        thinking = False
        while True:
            m = yield Until(
                (THINK, THINK_END, RESPONSE, RESPONSE_END, TOOLS, MESSAGE_END),
                "reasoning" if thinking else "content",
            )
            if m is None:
                return
            if m in (THINK, THINK_END):
                thinking = m == THINK
            elif m == TOOLS:
                thinking = False
                yield from k3_tools(eng)


FORMAT = TextFormat(
    name="kimi_k3",
    parser=KimiK3,
    family="Kimi K3 (Moonshot)",
    markers=(TOOLS, CALL, ARG, TOOLS_END),
    peers={"vllm": ("kimi_k3",), "sglang": ("kimi_k3",)},
    cues=(Cue(marker=TOOLS, read=k3_tools),),
    reasoning=True,
    quirks='`type="string"` arguments are text, others JSON; channel tokens are framing',
)
