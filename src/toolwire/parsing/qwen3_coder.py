"""Qwen3-Coder: XML-like calls, one parameter per tag, values as plain text.

``<tool_call><function=f><parameter=a>1</parameter></function></tool_call>``; the template puts a
newline after an opening tag and before a closing one, so one leading and one trailing newline
of a value are not part of it. Values are typed by the tool's schema (see ``_values``).
Arguments stream one parameter at a time.
"""

from __future__ import annotations

from toolwire.parsing._base import Call, Engine, Run, Sections, Until
from toolwire.parsing._jsonscan import canon, encode_str
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters
from toolwire.parsing._values import coerce, param_schema

__all__ = ["FORMAT", "Qwen3Coder", "close_args", "emit_param", "qwen_block", "qwen_function"]

OPEN = "<tool_call>"
CLOSE = "</tool_call>"
FUNC = "<function="
FUNC_END = "</function>"
PARAM = "<parameter="
PARAM_END = "</parameter>"


def emit_param(eng: Engine, call: Call, key: str, text: str) -> None:
    """Stream one typed parameter: ``{"k":v`` first, then ``,"k":v``; ``finish`` adds ``}``."""
    value = coerce(text, param_schema(eng.schemas, call.name, key))
    eng.args(call, ("," if call.parts else "{") + encode_str(key) + ":" + canon(value))


def close_args(eng: Engine, call: Call) -> None:
    eng.args(call, "}" if call.parts else "{}")


def _trim(v: str) -> str:
    if v.startswith("\n"):
        v = v[1:]
    if v.endswith("\n"):
        v = v[:-1]
    return v


class Qwen3Coder(Sections):
    name = "qwen3_coder"
    markers = (OPEN + "\n" + FUNC, FUNC)
    opens = (OPEN, FUNC)

    def section(self, eng: Engine, marker: str) -> Run:
        return qwen_block(eng) if marker == OPEN else qwen_function(eng)


def qwen_block(eng: Engine) -> Run:
    """After ``<tool_call>``."""
    m = yield Until((FUNC, CLOSE, OPEN), "drop")
    if m == OPEN:
        eng.unread(OPEN)
    if m == FUNC:
        yield from qwen_function(eng)


def qwen_function(eng: Engine) -> Run:
    """After ``<function=``: the name, the parameters, the closing tags."""
    head = Until((">", "\n", PARAM, FUNC_END, CLOSE), "collect", consume=False)
    m = yield head
    name = head.text.strip()
    if m == ">":
        yield Until((">",), "drop")
    if not name:
        rest = Until((CLOSE, OPEN), "collect")
        if (yield rest) == OPEN:
            eng.unread(OPEN)
        eng.fail_call(None, "a <function=...> without a name", FUNC + head.text + rest.text)
        return
    call = eng.start_call(name)
    while True:
        m = yield Until((PARAM, FUNC_END, CLOSE, OPEN), "drop")
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
        emit_param(eng, call, key.text.strip(), _trim(value.text))
    close_args(eng, call)
    eng.finish_call(call)
    if m == OPEN:
        eng.unread(OPEN)
    elif m == FUNC_END and (yield Until((CLOSE, OPEN, FUNC), "drop", consume=False)) == CLOSE:
        yield Until((CLOSE,), "drop")


FORMAT = TextFormat(
    name="qwen3_coder",
    parser=Qwen3Coder,
    family="Qwen3-Coder, Qwen3-Next, Qwen3.5",
    markers=(OPEN, FUNC, PARAM, PARAM_END, FUNC_END, CLOSE),
    peers={"vllm": ("qwen3_coder",), "sglang": ("qwen3_coder",)},
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
