"""Qwen3-Coder: XML-like calls, one parameter per tag, values as plain text.

``<tool_call><function=f><parameter=a>1</parameter></function></tool_call>``; the template puts a
newline after an opening tag and before a closing one, so one leading and one trailing newline
of a value are not part of it. Values are typed by the tool's schema (see ``_values``).
Arguments stream one parameter at a time.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._params import close_args, emit_param, trim_newlines
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["FORMAT", "Qwen3Coder", "qwen_block", "qwen_function"]

OPEN = "<tool_call>"
CLOSE = "</tool_call>"
FUNC = "<function="
FUNC_END = "</function>"
PARAM = "<parameter="
PARAM_END = "</parameter>"


class Qwen3Coder(Sections):
    name = "qwen3_coder"
    markers = (OPEN + "\n" + FUNC, FUNC)
    opens = (OPEN, FUNC)

    def section(self, eng: Engine, marker: str) -> Run:
        return qwen_block(eng) if marker == OPEN else qwen_function(eng)


def qwen_block(eng: Engine, open: str = OPEN, close: str = CLOSE, *, trim: bool = True) -> Run:
    """After ``<tool_call>`` (or the family's ``open``): the ``<function=...>`` call inside."""
    skipped = Until((FUNC, close, open), "collect")
    m = yield skipped
    eng.stray(skipped.text, f"inside {open}")
    if m == open:
        eng.unread(open)
    if m == FUNC:
        yield from qwen_function(eng, open, close, trim=trim)


def qwen_function(eng: Engine, open: str = OPEN, close: str = CLOSE, *, trim: bool = True) -> Run:
    """After ``<function=``: the name, the parameters, the closing tags.

    ``trim``: one newline after an opening and before a closing tag is layout (Qwen3-Coder's
    template writes them; Seed-OSS's does not, so there a value keeps its newlines).
    """
    head = Until((">", "\n", PARAM, FUNC_END, close), "collect", consume=False)
    m = yield head
    name = head.text.strip()
    if m == ">":
        yield Until((">",), "drop")
    if not name:
        rest = Until((close, open), "collect")
        if (yield rest) == open:
            eng.unread(open)
        eng.fail_call(None, "a <function=...> without a name", FUNC + head.text + rest.text)
        return
    call = eng.start_call(name)
    while True:
        between = Until((PARAM, FUNC_END, close, open), "collect")
        m = yield between
        eng.stray(between.text, f"inside <function={name}>")
        if m != PARAM:
            break
        key = Until((">",), "collect")
        yield key
        # only the parameter's own end tag (or, if it is missing, the next tag of the call)
        # ends a value: values may well contain text such as "</tool_call>"
        value = Until((PARAM_END, PARAM, FUNC_END), "collect", consume=False)
        end = yield value
        if end == PARAM_END:
            yield Until((PARAM_END,), "drop")
        emit_param(eng, call, key.text.strip(), trim_newlines(value.text) if trim else value.text)
    close_args(eng, call)
    eng.finish_call(call)
    if m == open:
        eng.unread(open)
    elif m == FUNC_END:
        after = Until((close, open, FUNC), "collect", consume=False)
        if (yield after) == close:
            yield Until((close,), "drop")
        eng.stray(after.text, "after </function>")


FORMAT = TextFormat(
    name="qwen3_coder",
    parser=Qwen3Coder,
    family="Qwen3-Coder, Qwen3-Next, Qwen3.5",
    markers=(OPEN, FUNC, PARAM, PARAM_END, FUNC_END, CLOSE),
    aliases=("qwen3_xml", "step3p5", "mimo"),
    peers={
        "vllm": ("qwen3_coder", "qwen3_xml", "step3p5", "mimo"),
        "sglang": ("qwen3_coder", "step3p5", "mimo"),
    },
    call=CallShape(
        layout=TaggedParameters(open=PARAM + "{key}>\n", close="\n" + PARAM_END + "\n"),
        call_open=OPEN + "\n" + FUNC + "{name}>\n",
        call_close=FUNC_END + "\n" + CLOSE,
        separator="\n",
        text_gap="\n\n",
    ),
    cues=(
        Cue(marker=OPEN, first="<", read=lambda eng, m: qwen_block(eng)),
        Cue(marker=FUNC, read=lambda eng, m: qwen_function(eng)),
    ),
    reasoning=True,
    quirks="values are text typed by the tool's schema; one newline after an opening tag and "
    "before a closing one is layout",
)
