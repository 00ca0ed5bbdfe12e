"""DeepSeek V3.2: DSML elements, ``<｜DSML｜function_calls>`` holding ``<｜DSML｜invoke name="f">``
calls whose parameters say whether their value is a string.

    <｜DSML｜function_calls>
    <｜DSML｜invoke name="get_weather">
    <｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>
    <｜DSML｜parameter name="days" string="false">3</｜DSML｜parameter>
    </｜DSML｜invoke>
    </｜DSML｜function_calls>

``string="true"``: the text as it is; ``string="false"``: a JSON value. The arguments may also be
one JSON object inside the invoke, and the tags may lack ``｜DSML｜`` (``<function_calls>``,
``<invoke ...>``), in full or in part (SGLang reads all of these; so does this reader).
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._invoke import InvokeTags, invoke_calls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["DSML", "FORMAT", "DeepSeekV32", "dsml_tags"]

DSML = "｜DSML｜"


def dsml_tags() -> InvokeTags:
    """The DSML invoke/parameter tags, with and without the ``｜DSML｜`` prefix."""
    return InvokeTags(
        invokes=(f"<{DSML}invoke name=", "<invoke name="),
        invoke_ends=(f"</{DSML}invoke>", "</invoke>"),
        params=(f"<{DSML}parameter name=", "<parameter name="),
        param_ends=(f"</{DSML}parameter>", "</parameter>"),
    )


TAGS = dsml_tags()


def dsml_shape(
    open: str, close: str, *, text_gap: str = "\n", ns: str = DSML, trimmed: bool = True
) -> CallShape:
    """How DSML calls (GigaChat's GCML: ``ns="｜GCML｜"``) are written inside the section.

    ``trimmed``: whether the format's readers drop a newline right inside a value's tags.
    """
    return CallShape(
        layout=TaggedParameters(
            open=f'<{ns}parameter name="{{key}}" string="true">',
            json_open=f'<{ns}parameter name="{{key}}" string="false">',
            close=f"</{ns}parameter>\n",
            trimmed=trimmed,
        ),
        begin=open + "\n",
        call_open=f'<{ns}invoke name="{{name}}">\n',
        call_close=f"</{ns}invoke>\n",
        end=close,
        text_gap=text_gap,
    )


OPEN = f"<{DSML}function_calls>"
CLOSE = f"</{DSML}function_calls>"
PLAIN_OPEN = "<function_calls>"
PLAIN_CLOSE = "</function_calls>"
_ENDS = (CLOSE, PLAIN_CLOSE)


def dsml_section(eng: Engine, marker: str = OPEN) -> Run:
    yield from invoke_calls(eng, TAGS, _ENDS)


class DeepSeekV32(Sections):
    name = "deepseek_v32"
    markers = (OPEN,)
    opens = (OPEN, PLAIN_OPEN)

    def section(self, eng: Engine, marker: str) -> Run:
        return dsml_section(eng)


FORMAT = TextFormat(
    name="deepseek_v32",
    parser=DeepSeekV32,
    family="DeepSeek V3.2, V3.2-Exp, V3.2-Speciale",
    markers=(OPEN, f'<{DSML}invoke name="', f'<{DSML}parameter name="', CLOSE),
    aliases=("deepseekv32",),
    peers={"vllm": ("deepseek_v32",), "sglang": ("deepseekv32",)},
    call=dsml_shape(OPEN, CLOSE, text_gap="\n\n"),
    cues=(
        Cue(marker=OPEN, read=dsml_section),
        # <function_calls> is also Olmo 3's: what follows tells them apart
        Cue(marker=PLAIN_OPEN, first="<", read=dsml_section),
    ),
    reasoning=True,
    quirks='`string="true"` values are text, `string="false"` JSON; tags with or without '
    "`｜DSML｜`; a JSON object instead of parameters",
)
