"""Kimi K2: ``<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0``
``<|tool_call_argument_begin|>{...}<|tool_call_end|><|tool_calls_section_end|>``.

The model's own call id (``functions.f:0``) is kept as the call id; the name is what sits
between ``functions.`` and ``:N``, and ids that deviate from that shape are tolerated.
"""

from __future__ import annotations

import re

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._jsonops import JsonArgs
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonArguments

__all__ = ["FORMAT", "KimiK2", "kimi_section", "name_from_id"]

SECTION = "<|tool_calls_section_begin|>"
SECTION_ALT = "<|tool_call_section_begin|>"
SECTION_END = "<|tool_calls_section_end|>"
SECTION_END_ALT = "<|tool_call_section_end|>"
CALL = "<|tool_call_begin|>"
ARGS = "<|tool_call_argument_begin|>"
CALL_END = "<|tool_call_end|>"

_ID = re.compile(r"^(?:functions\.)?(?P<name>.+?)(?::\d+)?$")


def name_from_id(call_id: str) -> str:
    m = _ID.match(call_id)
    return m.group("name") if m is not None else call_id


class KimiK2(Sections):
    name = "kimi_k2"
    markers = (SECTION, SECTION_ALT)

    def section(self, eng: Engine, marker: str) -> Run:
        return kimi_section(eng)


def kimi_section(eng: Engine) -> Run:
    """After the section marker: each call until the section ends."""
    while True:
        m = yield Until((CALL, SECTION_END, SECTION_END_ALT), "drop")
        if m != CALL:
            break
        head = Until((ARGS, CALL_END, SECTION_END), "collect")
        end = yield head
        if end != ARGS or not head.text.strip():
            eng.fail_call(None, "a Kimi tool call without id and arguments", head.text)
            if end == SECTION_END:
                return
            continue
        call_id = head.text.strip()
        call = eng.start_call(name_from_id(call_id), call_id)
        yield JsonArgs(call, (CALL_END, SECTION_END))
        if (yield Until((CALL_END, CALL, SECTION_END), "drop", consume=False)) == CALL_END:
            yield Until((CALL_END,), "drop")


FORMAT = TextFormat(
    name="kimi_k2",
    parser=KimiK2,
    family="Kimi K2",
    markers=(SECTION, CALL, ARGS, CALL_END, SECTION_END),
    peers={"vllm": ("kimi_k2",), "sglang": ("kimi_k2",)},
    call=CallShape(
        layout=JsonArguments(),
        begin=SECTION,
        call_open=CALL + "functions.{name}:{index}" + ARGS,
        call_close=CALL_END,
        end=SECTION_END,
    ),
    cues=(
        Cue(marker=SECTION, read=lambda eng, m: kimi_section(eng)),
        Cue(marker=SECTION_ALT, read=lambda eng, m: kimi_section(eng)),
    ),
    reasoning=True,
    quirks="the model's id `functions.NAME:N` is kept as the call id",
)
