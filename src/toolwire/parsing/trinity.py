"""Trinity (Arcee): Hermes' ``<tool_call>`` JSON, which the model may write inside its reasoning.

A ``<tool_call>`` inside ``<think>...</think>`` is still a call (SGLang strips the think tags
before parsing); the reasoning around it stays reasoning.
"""

from __future__ import annotations

from toolwire.parsing._base import THINK_CLOSE, THINK_OPEN, Engine, Format, Run, Until
from toolwire.parsing._prompting import hermes_results, hermes_tools
from toolwire.parsing._record import TextFormat
from toolwire.parsing._shape import CallShape, JsonObject
from toolwire.parsing.hermes import CLOSE, OPEN, hermes_block

__all__ = ["FORMAT", "Trinity"]


class Trinity(Format):
    name = "trinity"
    markers = (OPEN,)

    def run(self, eng: Engine) -> Run:
        thinking = False
        while True:
            m = yield Until((OPEN, THINK_OPEN, THINK_CLOSE), "reasoning" if thinking else "content")
            if m is None:
                return
            if m == OPEN:
                yield from hermes_block(eng)
            else:
                thinking = m == THINK_OPEN


FORMAT = TextFormat(
    name="trinity",
    parser=Trinity,
    family="Trinity (Arcee)",
    markers=(OPEN, CLOSE),
    peers={"sglang": ("trinity",)},
    call=CallShape(
        layout=JsonObject(), call_open=OPEN + "\n", call_close="\n" + CLOSE, separator="\n"
    ),
    prompt=hermes_tools,
    results=hermes_results,
    # auto reads its calls as Hermes'
    cues=(),
    reasoning=True,
    quirks="calls inside `<think>` count",
)
