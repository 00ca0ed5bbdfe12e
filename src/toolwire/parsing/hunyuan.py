"""Hunyuan (Tencent Hy3): key/value calls, the name ended by ``<tool_sep>``, in ``<tool_calls>``.

    <tool_calls>
    <tool_call>get_weather<tool_sep>
    <arg_key>city</arg_key>
    <arg_value>Paris</arg_value>
    </tool_call>
    </tool_calls>

Values are text typed by the tool's schema. Shipping tokenizers may suffix the tags
(``<tool_calls:opensource>``); those are not read.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._keyvalue import KVTags, kv_call, kv_section
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["FORMAT", "Hunyuan", "hunyuan_section"]

SECTION = "<tool_calls>"
SECTION_END = "</tool_calls>"
TAGS = KVTags(
    open="<tool_call>",
    close="</tool_call>",
    sep="<tool_sep>",
    key="<arg_key>",
    key_end="</arg_key>",
    value="<arg_value>",
    value_end="</arg_value>",
)


def hunyuan_section(eng: Engine, marker: str = SECTION) -> Run:
    """After ``<tool_calls>``: each ``<tool_call>`` until ``</tool_calls>``."""
    return kv_section(eng, TAGS, SECTION_END, lambda e: kv_call(e, TAGS))


class Hunyuan(Sections):
    name = "hunyuan"
    markers = (SECTION,)

    def section(self, eng: Engine, marker: str) -> Run:
        return hunyuan_section(eng)


FORMAT = TextFormat(
    name="hunyuan",
    parser=Hunyuan,
    family="Hunyuan Hy3 (Tencent)",
    markers=(SECTION, TAGS.open, TAGS.sep, TAGS.key, TAGS.value, SECTION_END),
    aliases=("hy_v3",),
    peers={"vllm": ("hy_v3",), "sglang": ("hunyuan",)},
    call=CallShape(
        layout=TaggedParameters(
            open=TAGS.key + "{key}" + TAGS.key_end + "\n" + TAGS.value, close=TAGS.value_end + "\n"
        ),
        begin=SECTION + "\n",
        call_open=TAGS.open + "{name}" + TAGS.sep + "\n",
        call_close=TAGS.close + "\n",
        end=SECTION_END,
    ),
    # <tool_calls> is also Jamba's (a JSON list follows there)
    cues=(Cue(marker=SECTION, first="<", read=hunyuan_section),),
    reasoning=True,
    quirks="the name ends at `<tool_sep>`; values are text typed by the tool's schema",
)
