"""Seed-OSS (ByteDance): Qwen3-Coder's ``<function=...>`` calls inside ``<seed:tool_call>`` tags.

``<seed:tool_call>\\n<function=f>\\n<parameter=a>1</parameter>\\n</function>\\n</seed:tool_call>``;
reasoning is ``<seed:think>...</seed:think>`` (its ``<seed:cot_budget_reflect>`` notes stay inside
the reasoning). Unlike Qwen3-Coder the template writes a value right between its tags, so a
value's newlines are its own. Values are typed by the tool's schema.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters
from toolwire.parsing.qwen3_coder import FUNC, FUNC_END, PARAM, PARAM_END, qwen_block

__all__ = ["FORMAT", "SeedOss"]

OPEN = "<seed:tool_call>"
CLOSE = "</seed:tool_call>"
THINKS = (("<seed:think>", "</seed:think>"),)


def seed_block(eng: Engine, marker: str = OPEN) -> Run:
    return qwen_block(eng, OPEN, CLOSE, trim=False)


class SeedOss(Sections):
    name = "seed_oss"
    markers = (OPEN,)
    thinks = THINKS

    def section(self, eng: Engine, marker: str) -> Run:
        return seed_block(eng)


FORMAT = TextFormat(
    name="seed_oss",
    parser=SeedOss,
    family="Seed-OSS 36B (ByteDance)",
    markers=(OPEN, FUNC, PARAM, PARAM_END, FUNC_END, CLOSE),
    peers={"vllm": ("seed_oss",)},
    call=CallShape(
        layout=TaggedParameters(open=PARAM + "{key}>", close=PARAM_END + "\n"),
        call_open=OPEN + "\n" + FUNC + "{name}>\n",
        call_close=FUNC_END + "\n" + CLOSE,
        separator="\n",
    ),
    cues=(Cue(marker=OPEN, read=seed_block),),
    reasoning=True,
    quirks="reasoning in `<seed:think>`; values are not trimmed (the template writes none of "
    "Qwen3-Coder's layout newlines)",
)
