"""DeepSeek V3.1 / V3.2: ``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{...}``
``<｜tool▁call▁end｜><｜tool▁calls▁end｜>`` — the name then bare JSON arguments.

The V3 reader already tells the two layouts apart by what precedes the separator, so this
format is that reader under its own name.
"""

from __future__ import annotations

from toolwire.parsing._record import TextFormat
from toolwire.parsing._shape import CallShape, JsonArguments
from toolwire.parsing.deepseek_v3 import CALL, CALL_END, CALLS, CALLS_END, SEP, DeepSeekV3

__all__ = ["FORMAT", "DeepSeekV31"]


class DeepSeekV31(DeepSeekV3):
    name = "deepseek_v31"


FORMAT = TextFormat(
    name="deepseek_v31",
    parser=DeepSeekV31,
    family="DeepSeek V3.1",
    markers=(CALLS, CALL, SEP, CALL_END, CALLS_END),
    aliases=("deepseekv31",),
    peers={"vllm": ("deepseek_v31",), "sglang": ("deepseekv31",)},
    call=CallShape(
        layout=JsonArguments(),
        begin=CALLS,
        call_open=CALL + "{name}" + SEP,
        call_close=CALL_END,
        end=CALLS_END,
    ),
    reasoning=True,
    quirks="the name before the separator, bare JSON after it; `auto` reads it through "
    "deepseek_v3's cue",
)
