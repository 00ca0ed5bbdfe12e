"""Solar Open 2 (Upstage): key/value calls in ``<|tool_call:start|>`` ... tokens.

    <|tool_call:start|>get_weather
    <|tool_arg:start|>city<|tool_arg:value|>Seoul<|tool_arg:end|>
    <|tool_call:end|>

Reasoning is ``<|think:start|>...<|think:end|>``. Values are text typed by the tool's schema;
a value whose end token is missing ends at the call's end.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._keyvalue import KVTags, kv_call
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["FORMAT", "SolarOpen2"]

TAGS = KVTags(
    open="<|tool_call:start|>",
    close="<|tool_call:end|>",
    key="<|tool_arg:start|>",
    key_end="<|tool_arg:value|>",
    value="",
    value_end="<|tool_arg:end|>",
    close_ends_value=True,
)
THINKS = (("<|think:start|>", "<|think:end|>"),)


def solar_call(eng: Engine, marker: str = TAGS.open) -> Run:
    return kv_call(eng, TAGS)


class SolarOpen2(Sections):
    name = "solar_open2"
    markers = (TAGS.open,)
    thinks = THINKS

    def section(self, eng: Engine, marker: str) -> Run:
        return solar_call(eng)


FORMAT = TextFormat(
    name="solar_open2",
    parser=SolarOpen2,
    family="Solar Open 2 (Upstage)",
    markers=(TAGS.open, TAGS.key, TAGS.key_end, TAGS.value_end, TAGS.close),
    peers={"vllm": ("solar_open2",)},
    call=CallShape(
        layout=TaggedParameters(
            open=TAGS.key + "{key}" + TAGS.key_end, close=TAGS.value_end + "\n"
        ),
        call_open=TAGS.open + "{name}\n",
        call_close=TAGS.close,
        separator="\n",
    ),
    cues=(Cue(marker=TAGS.open, read=solar_call),),
    reasoning=True,
    quirks="without a schema vLLM keeps every value a string; here JSON-looking text is JSON "
    "(as for every text-valued format)",
)
