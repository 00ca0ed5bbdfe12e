"""GigaChat 3.5 (Sber): GCML elements, DeepSeek V3.2's DSML shape with ``｜GCML｜`` tags.

    <｜GCML｜tool_calls>
    <｜GCML｜invoke name="get_weather">
    <｜GCML｜parameter name="city" string="true">Moscow</｜GCML｜parameter>
    </｜GCML｜invoke>
    </｜GCML｜tool_calls>

``<|message_sep|>`` and ``</s>`` after the reply are framing.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._invoke import InvokeTags, invoke_calls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing.deepseek_v32 import dsml_shape

__all__ = ["FORMAT", "GigaChat35"]

G = "｜GCML｜"
OPEN = f"<{G}tool_calls>"
CLOSE = f"</{G}tool_calls>"
TAGS = InvokeTags(
    invokes=(f"<{G}invoke name=",),
    invoke_ends=(f"</{G}invoke>",),
    params=(f"<{G}parameter name=",),
    param_ends=(f"</{G}parameter>",),
    trim=False,
)
FRAMING = ("<|message_sep|>", "</s>")


def gcml_section(eng: Engine, marker: str = OPEN) -> Run:
    yield from invoke_calls(eng, TAGS, (CLOSE,))


class GigaChat35(Sections):
    name = "gigachat35"
    markers = (OPEN,)
    opens = (OPEN, *FRAMING)

    def section(self, eng: Engine, marker: str) -> Run:
        if marker == OPEN:
            yield from gcml_section(eng)


FORMAT = TextFormat(
    name="gigachat35",
    parser=GigaChat35,
    family="GigaChat 3.5 (Sber)",
    markers=(OPEN, f'<{G}invoke name="', f'<{G}parameter name="', CLOSE),
    peers={"sglang": ("gigachat35",)},
    call=dsml_shape(OPEN, CLOSE, ns=G, trimmed=False),  # its values are read as written
    cues=(Cue(marker=OPEN, read=gcml_section),),
    quirks='`string="true"` values are text, others JSON; `<|message_sep|>` is framing',
)
