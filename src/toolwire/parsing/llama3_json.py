"""Llama 3.x JSON calls: ``<|python_tag|>{"name": "f", "parameters": {...}}``, or a bare object.

Several calls are joined by ``;`` (or line breaks). ``arguments`` is accepted for
``parameters``. A call object counts anywhere in the reply (as vLLM reads it; the template asks
for the object alone); a JSON value that holds no call stays content.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolwire._spec import ToolSpec
from toolwire.parsing._base import Engine, Format, Peek, Run, Starts, content_until, first_char
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._prompting import plain_results, tool_json
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "Llama3Json", "calls_joined"]

TAG = "<|python_tag|>"


def calls_joined(eng: Engine) -> Run:
    """Call objects separated by ``;`` or line breaks; trailing text goes back to content."""
    while True:
        started = yield JsonCalls((";", TAG), non_call="content")
        if not started:
            return
        peek = Peek()
        ch = yield peek
        if ch == "{" and "\n" in peek.ws:
            continue  # the next call on its own line
        if ch != ";" or not (yield Starts(";")):
            eng.content(peek.ws)
            return


class Llama3Json(Format):
    name = "llama3_json"
    markers = (TAG,)

    def run(self, eng: Engine) -> Run:
        ch = yield from first_char(eng)
        if ch == "{":
            yield from calls_joined(eng)
        while True:
            # vLLM reads a call object anywhere in the reply ("Here it is: {...}"); a JSON value
            # that holds no call stays content, so reading prose's braces costs nothing else
            m = yield from content_until(eng, (TAG, "{"))
            if m is None:
                return
            if m == "{":
                eng.unread("{")
            yield from calls_joined(eng)


def llama3_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    functions = "\n\n".join(tool_json(s) for s in specs)
    return (
        "You can call the functions below. To call one, reply with only a JSON object of the "
        'form {"name": "<function name>", "parameters": {<argument name>: <value>}} and '
        "nothing else. Use a function only when it helps answer the question.\n\n"
        + functions
        + rules
    )


def _bare(eng: Engine, marker: str) -> Run:
    return calls_joined(eng)  # auto put the "{" back


FORMAT = TextFormat(
    name="llama3_json",
    parser=Llama3Json,
    family="Llama 3.1 / 3.2 / 3.3 (JSON tool calling)",
    markers=(TAG,),
    aliases=("llama3", "llama4_json"),
    peers={"vllm": ("llama3_json", "llama4_json"), "sglang": ("llama3",)},
    # The prompt asks for a bare object; after words it needs the tag to count as a call.
    call=CallShape(
        layout=JsonObject(arguments_key="parameters"),
        separator="; ",
        begin_after_text=TAG,
        text_gap="",
    ),
    prompt=llama3_tools,
    results=plain_results,
    cues=(
        Cue(marker=TAG, read=lambda eng, m: calls_joined(eng)),
        Cue(marker="{", at_start=True, read=_bare),
    ),
    quirks="a call object counts anywhere in the reply (as vLLM reads it); a JSON value "
    "holding no call stays content",
)
