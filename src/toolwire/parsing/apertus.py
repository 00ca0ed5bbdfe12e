"""Apertus (Swiss AI): a JSON list of one-key objects, ``{"tool name": {arguments}}``.

<|tools_prefix|>[{"get_weather": {"city": "Bern"}}, {"get_time": {}}]<|tools_suffix|>
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._jsonscan import canon
from toolwire.parsing._jsonvalue import JsonValue
from toolwire.parsing._record import Cue, TextFormat

__all__ = ["FORMAT", "Apertus"]

PREFIX = "<|tools_prefix|>"
SUFFIX = "<|tools_suffix|>"


def _calls(eng: Engine, items: Sequence[Any]) -> None:
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            eng.fail_call(None, "not a one-key {name: arguments} object", canon(item))
            continue
        ((name, args),) = item.items()
        call = eng.start_call(str(name))
        eng.args(call, canon({} if args is None else args))
        eng.finish_call(call)


def apertus_block(eng: Engine, marker: str = PREFIX) -> Run:
    value = JsonValue((SUFFIX, PREFIX))
    yield value
    if value.ok:
        items = value.value if isinstance(value.value, list) else [value.value]
        _calls(eng, items)
    else:
        eng.fail_call(None, "malformed Apertus tool calls", value.text)
    rest = Until((SUFFIX, PREFIX), "collect", consume=False)
    if (yield rest) == SUFFIX:
        yield Until((SUFFIX,), "drop")
    eng.stray(rest.text, f"inside {PREFIX}")


class Apertus(Sections):
    name = "apertus"
    markers = (PREFIX,)

    def section(self, eng: Engine, marker: str) -> Run:
        return apertus_block(eng)


FORMAT = TextFormat(
    name="apertus",
    parser=Apertus,
    family="Apertus (Swiss AI)",
    markers=(PREFIX, SUFFIX),
    aliases=("apertus2509",),
    peers={"vllm": ("apertus",), "sglang": ("apertus2509",)},
    cues=(Cue(marker=PREFIX, read=apertus_block),),
    quirks="each call is `{name: arguments}`; the arguments arrive whole (one delta per call)",
)
