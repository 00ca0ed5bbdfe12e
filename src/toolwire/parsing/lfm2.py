"""LFM2 / LFM2.5 (Liquid AI): a pythonic list between ``<|tool_call_start|>`` and
``<|tool_call_end|>``, or a JSON list of ``{"name", "arguments"}`` there.

    <|tool_call_start|>[get_weather(city="Paris"), get_time()]<|tool_call_end|>Checking both.

Text after the block is content (LFM2.5 writes its words after the calls). The prompt lists the
tools between ``<|tool_list_start|>`` and ``<|tool_list_end|>``, as the template does.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult
from toolwire._spec import ToolSpec
from toolwire.parsing._base import Engine, Peek, Run, Sections, Until
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._prompting import function_of, result_value
from toolwire.parsing._pycalls import PyCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, PythonicCall

__all__ = ["FORMAT", "Lfm2"]

START = "<|tool_call_start|>"
END = "<|tool_call_end|>"


def lfm2_block(eng: Engine, marker: str = START) -> Run:
    """After ``<|tool_call_start|>``: the list (pythonic or JSON), then the end token."""
    outer = Peek()
    if (yield outer) == "[":
        inner = Peek()
        yield Until(("[",), "drop")
        ch = yield inner
        eng.unread("[" + inner.ws)
        if ch in ("{", "]"):
            yield JsonCalls((END,), non_call="error")
        else:
            yield PyCalls((END,), brackets=True)
    else:  # no brackets: calls written bare
        yield PyCalls((END,), brackets=None)
    rest = Until((END, START), "collect", consume=False)
    if (yield rest) == END:
        yield Until((END,), "drop")
    eng.stray(rest.text, f"inside {START}")


class Lfm2(Sections):
    name = "lfm2"
    markers = (START,)

    def section(self, eng: Engine, marker: str) -> Run:
        return lfm2_block(eng)


def lfm2_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    tools = _json.dumps([function_of(s) for s in specs])
    return (
        f"List of tools: <|tool_list_start|>{tools}<|tool_list_end|>\n\n"
        "To call tools, write them as a Python list of calls with keyword arguments between "
        f"{START} and {END}, for example {START}[get_weather(city='Paris')]{END}." + rules
    )


def lfm2_results(pairs: Sequence[tuple[ToolCall, ToolResult]]) -> str:
    return "\n".join(
        "<|tool_response_start|>"
        + _json.dumps({"name": call.name, "content": result_value(result)})
        + "<|tool_response_end|>"
        for call, result in pairs
    )


FORMAT = TextFormat(
    name="lfm2",
    parser=Lfm2,
    family="LFM2, LFM2.5 (Liquid AI)",
    markers=(START, END),
    peers={"vllm": ("lfm2",), "sglang": ("lfm2",)},
    call=CallShape(
        layout=PythonicCall(), begin=START + "[", separator=", ", end="]" + END, text_gap=""
    ),
    prompt=lfm2_tools,
    results=lfm2_results,
    cues=(Cue(marker=START, read=lfm2_block),),
    reasoning=True,
    quirks="pythonic or JSON list inside the tokens; text after the block is content",
)
