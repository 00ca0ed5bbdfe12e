"""Olmo 3 (Ai2): pythonic calls, one per line, between ``<function_calls>`` tags.

    <function_calls>get_weather(city="Paris")
    get_time(zone="UTC")</function_calls>

No list brackets; a comma between calls is read too. Values are Python or JSON literals.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult
from toolwire._spec import ToolSpec
from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._prompting import function_of, result_value
from toolwire.parsing._pycalls import PyCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, PythonicCall
from toolwire.parsing.pythonic import IDENT_START

__all__ = ["FORMAT", "Olmo3"]

OPEN = "<function_calls>"
CLOSE = "</function_calls>"


def olmo_block(eng: Engine, marker: str = OPEN) -> Run:
    yield PyCalls((CLOSE,), brackets=None)
    rest = Until((CLOSE, OPEN), "collect", consume=False)
    if (yield rest) == CLOSE:
        yield Until((CLOSE,), "drop")
    eng.stray(rest.text, f"inside {OPEN}")


class Olmo3(Sections):
    name = "olmo3"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return olmo_block(eng)


def olmo_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    functions = _json.dumps([function_of(s) for s in specs])
    return (
        "You are a helpful function-calling AI assistant. You are provided with function "
        f"signatures within <functions></functions> XML tags.\n<functions>{functions}</functions>"
        "\nOutput any function calls within <function_calls></function_calls> XML tags, one "
        "Python call with keyword arguments per line." + rules
    )


def olmo_results(pairs: Sequence[tuple[ToolCall, ToolResult]]) -> str:
    return "\n".join(_json.dumps(result_value(result)) for _, result in pairs)


FORMAT = TextFormat(
    name="olmo3",
    parser=Olmo3,
    family="Olmo 3 (Ai2)",
    markers=(OPEN, CLOSE),
    peers={"vllm": ("olmo3",)},
    call=CallShape(layout=PythonicCall(), begin=OPEN, separator="\n", end=CLOSE),
    prompt=olmo_tools,
    results=olmo_results,
    # <function_calls> is also DeepSeek V3.2's plain form (an <invoke> follows there)
    cues=(Cue(marker=OPEN, first=IDENT_START, read=olmo_block),),
    reasoning=True,
    quirks="one call per line, no brackets",
)
