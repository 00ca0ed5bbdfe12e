"""Poolside (Laguna, ``poolside_v1``): GLM-4.5's key/value calls, one newline around each value
being layout.

    <tool_call>get_weather
    <arg_key>city</arg_key>
    <arg_value>Paris</arg_value>
    </tool_call>

String values are raw text, others JSON, typed back by the tool's schema.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._keyvalue import KVTags, kv_call
from toolwire.parsing._record import TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters
from toolwire.parsing.glm45 import CLOSE, KEY, KEY_END, OPEN, VAL, VAL_END

__all__ = ["FORMAT", "PoolsideV1"]

TAGS = KVTags(
    open=OPEN, close=CLOSE, key=KEY, key_end=KEY_END, value=VAL, value_end=VAL_END, trim=True
)


class PoolsideV1(Sections):
    name = "poolside_v1"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return kv_call(eng, TAGS)


FORMAT = TextFormat(
    name="poolside_v1",
    parser=PoolsideV1,
    family="Poolside Laguna",
    markers=(OPEN, KEY, VAL, CLOSE),
    peers={"vllm": ("poolside_v1",), "sglang": ("poolside_v1",)},
    call=CallShape(
        layout=TaggedParameters(
            open=KEY + "{key}" + KEY_END + "\n" + VAL + "\n", close="\n" + VAL_END + "\n"
        ),
        call_open=OPEN + "{name}\n",
        call_close=CLOSE,
        separator="\n",
    ),
    # auto reads <tool_call> bodies as GLM's (the same tags)
    cues=(),
    reasoning=True,
    quirks="GLM-4.5's tags; one newline just inside a value's tags is not part of it",
)
