"""Pythonic calls (Llama 3.2 / 4, ToolACE): ``[f(a=1, b="x"), g()]``.

Optionally inside ``<|python_start|>...<|python_end|>`` (where the brackets may be missing).
Values are Python literals — nested lists, dicts, tuples and sets, ``True/False/None`` — or
JSON (``true/false/null``); see :mod:`toolwire.parsing._pycalls`. A list of calls counts at
the start of the output and after prose (``I'll check. [get_weather(city="Paris")]``); one that
turns out not to be calls (``[1] see note``, a Markdown link) stays content.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolwire import _json
from toolwire._spec import ToolSpec
from toolwire.parsing._base import Engine, Format, Peek, Run, Until, content_until, first_char
from toolwire.parsing._prompting import function_of, plain_results
from toolwire.parsing._pycalls import PyCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, PythonicCall

__all__ = ["END", "FORMAT", "IDENT_START", "START", "Pythonic"]

START = "<|python_start|>"
END = "<|python_end|>"
IDENT_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"


class Pythonic(Format):
    name = "pythonic"
    markers = (START,)

    def run(self, eng: Engine) -> Run:
        ch = yield from first_char(eng)
        if ch == "[":
            yield PyCalls()
        while True:
            m = yield from content_until(eng, (START, "["))
            if m is None:
                return
            if m == START:
                yield from _marked(eng, m)
                continue
            # a "[" in prose: a list of calls only if a name follows
            peek = Peek()
            ch = yield peek
            if ch and ch in IDENT_START:
                eng.unread("[" + peek.ws)
                yield PyCalls()
            else:
                eng.content("[" + peek.ws)


def pythonic_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    functions = _json.dumps([function_of(s) for s in specs])
    return (
        "You can call these functions (JSON Schema signatures):\n"
        + functions
        + "\n\nTo call functions, reply with only a Python list of calls with keyword "
        "arguments, for example [func_a(x=1, name='b'), func_b()]." + rules
    )


def _marked(eng: Engine, marker: str) -> Run:
    yield PyCalls((END,), brackets=None)
    yield Until((END,), "drop")


def _bare(eng: Engine, marker: str) -> Run:
    yield PyCalls()  # auto put the "[" back


FORMAT = TextFormat(
    name="pythonic",
    parser=Pythonic,
    family="Llama 3.2 / 4 (pythonic), ToolACE",
    markers=(START, END),
    aliases=("llama4_pythonic",),
    peers={"vllm": ("pythonic", "llama4_pythonic"), "sglang": ("pythonic",)},
    # A bare list counts only at the start of the output; after words it needs the markers.
    call=CallShape(
        layout=PythonicCall(),
        begin="[",
        separator=", ",
        end="]",
        begin_after_text=START + "[",
        end_after_text="]" + END,
        text_gap="",
    ),
    prompt=pythonic_tools,
    results=plain_results,
    cues=(
        Cue(marker=START, read=_marked),
        Cue(marker="[", first=IDENT_START, at_start=True, read=_bare),
    ),
    quirks="a bare list counts only at the start of the output; Python or JSON literals",
)
