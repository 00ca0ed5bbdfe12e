"""GLM-4.5/4.6: ``<tool_call>f\n<arg_key>a</arg_key>\n<arg_value>1</arg_value>\n</tool_call>``.

Values are plain text typed by the tool's schema (see ``_values``); arguments stream one
parameter at a time (the reader is the key/value family's, :mod:`toolwire.parsing._keyvalue`).
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._keyvalue import KVTags, kv_call
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["FORMAT", "TAGS", "Glm45", "glm_block"]

OPEN = "<tool_call>"
CLOSE = "</tool_call>"
KEY = "<arg_key>"
KEY_END = "</arg_key>"
VAL = "<arg_value>"
VAL_END = "</arg_value>"
TAGS = KVTags(open=OPEN, close=CLOSE, key=KEY, key_end=KEY_END, value=VAL, value_end=VAL_END)


def glm_block(eng: Engine, *, guessed: bool = False) -> Run:
    """After ``<tool_call>``: the name, the key/value pairs, ``</tool_call>``."""
    return kv_call(eng, TAGS, guessed=guessed)


class Glm45(Sections):
    name = "glm45"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return glm_block(eng)


FORMAT = TextFormat(
    name="glm45",
    parser=Glm45,
    family="GLM-4.5, GLM-4.6",
    markers=(OPEN, KEY, KEY_END, VAL, VAL_END, CLOSE),
    aliases=("glm", "ling3", "spark25"),
    peers={"vllm": ("glm45",), "sglang": ("glm45", "glm", "ling3", "spark25")},
    call=CallShape(
        layout=TaggedParameters(open=KEY + "{key}" + KEY_END + "\n" + VAL, close=VAL_END + "\n"),
        call_open=OPEN + "{name}\n",
        call_close=CLOSE,
        separator="\n",
    ),
    # after <tool_call>, neither JSON nor <function=: a GLM call, if it looks like one
    cues=(Cue(marker=OPEN, read=lambda eng, m: glm_block(eng, guessed=True)),),
    reasoning=True,
    quirks="values are text typed by the tool's schema",
)
