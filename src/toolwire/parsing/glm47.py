"""GLM-4.7: GLM-4.5's calls written without newlines, a call without arguments as its name.

``<tool_call>f<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>``,
``<tool_call>get_time</tool_call>``. The GLM-4.5 reader reads both layouts; this record writes
GLM-4.7's. vLLM names both ``glm45`` and ``glm47`` one parser; so does toolwire's reader.
"""

from __future__ import annotations

from toolwire.parsing._record import TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters
from toolwire.parsing.glm45 import CLOSE, KEY, KEY_END, OPEN, VAL, VAL_END, Glm45

__all__ = ["FORMAT", "Glm47"]


class Glm47(Glm45):
    name = "glm47"


FORMAT = TextFormat(
    name="glm47",
    parser=Glm47,
    family="GLM-4.7, GLM-5",
    markers=(OPEN, KEY, KEY_END, VAL, VAL_END, CLOSE),
    peers={"vllm": ("glm47",), "sglang": ("glm47",)},
    call=CallShape(
        layout=TaggedParameters(open=KEY + "{key}" + KEY_END + VAL, close=VAL_END),
        call_open=OPEN + "{name}",
        call_close=CLOSE,
    ),
    # auto reads it through glm45's cue (the same reader)
    cues=(),
    reasoning=True,
    quirks="no newlines between tags; a call without arguments is `<tool_call>name</tool_call>`",
)
