"""DeepSeek V4: V3.2's DSML calls inside ``<｜DSML｜tool_calls>`` (not ``function_calls``).

    <｜DSML｜tool_calls>
    <｜DSML｜invoke name="get_weather">
    <｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>
    </｜DSML｜invoke>
    </｜DSML｜tool_calls>

A ``function_calls`` section is V3.2's and is not read here (vLLM refuses it too).
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._invoke import invoke_calls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing.deepseek_v32 import DSML, TAGS, dsml_shape

__all__ = ["FORMAT", "DeepSeekV4"]

OPEN = f"<{DSML}tool_calls>"
CLOSE = f"</{DSML}tool_calls>"


def v4_section(eng: Engine, marker: str = OPEN) -> Run:
    yield from invoke_calls(eng, TAGS, (CLOSE,))


class DeepSeekV4(Sections):
    name = "deepseek_v4"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return v4_section(eng)


FORMAT = TextFormat(
    name="deepseek_v4",
    parser=DeepSeekV4,
    family="DeepSeek V4",
    markers=(OPEN, f'<{DSML}invoke name="', f'<{DSML}parameter name="', CLOSE),
    aliases=("deepseekv4",),
    peers={"vllm": ("deepseek_v4",), "sglang": ("deepseekv4",)},
    call=dsml_shape(OPEN, CLOSE),
    cues=(Cue(marker=OPEN, read=v4_section),),
    reasoning=True,
    quirks="V3.2's DSML elements in a `tool_calls` section",
)
