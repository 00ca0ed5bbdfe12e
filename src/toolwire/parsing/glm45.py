"""GLM-4.5/4.6: ``<tool_call>f<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>``.

Values are plain text typed by the tool's schema (see ``_values``); arguments stream one
parameter at a time.
"""

from __future__ import annotations

import re

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters
from toolwire.parsing.qwen3_coder import close_args, emit_param

__all__ = ["FORMAT", "Glm45", "glm_block"]

OPEN = "<tool_call>"
CLOSE = "</tool_call>"
KEY = "<arg_key>"
KEY_END = "</arg_key>"
VAL = "<arg_value>"
VAL_END = "</arg_value>"

_NAME = re.compile(r"[A-Za-z_][\w.\-]*")


def _looks_like_call(eng: Engine, name: str, *, has_args: bool) -> bool:
    if _NAME.fullmatch(name) is None:
        return False
    # A bare word without arguments is a GLM call only if the tools say such a tool exists.
    return has_args or (eng.schemas is not None and name in eng.schemas)


class Glm45(Sections):
    name = "glm45"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return glm_block(eng)


def glm_block(eng: Engine, *, guessed: bool = False) -> Run:
    """After ``<tool_call>``: the name, the key/value pairs, ``</tool_call>``.

    ``guessed``: the format was only inferred (``auto``), so the body must look like a GLM call
    — a function-like name, with ``<arg_key>`` pairs or known to ``tools`` — before it is one;
    otherwise (``<tool_call>garbage</tool_call>``) it is an error, never a call named garbage.
    """
    head = Until((KEY, CLOSE, OPEN), "collect", consume=False)
    m = yield head
    name = head.text.strip()
    problem = None
    if not name:
        problem = "a <tool_call> without a function name"
    elif guessed and not _looks_like_call(eng, name, has_args=m == KEY):
        problem = "a <tool_call> holding neither JSON nor a recognisable call"
    if problem is not None:
        rest = Until((CLOSE, OPEN), "collect")
        if (yield rest) == OPEN:
            eng.unread(OPEN)
        eng.fail_call(None, problem, head.text + rest.text)
        return
    call = eng.start_call(name)
    while True:
        m = yield Until((KEY, CLOSE, OPEN), "drop")
        if m != KEY:
            break
        key = Until((KEY_END, CLOSE), "collect", consume=False)
        if (yield key) != KEY_END:
            continue
        yield Until((KEY_END,), "drop")
        if (yield Until((VAL, KEY, CLOSE, OPEN), "drop", consume=False)) != VAL:
            emit_param(eng, call, key.text.strip(), "")
            continue
        yield Until((VAL,), "drop")
        # only the value's own end tag ends it: values may contain other tags
        value = Until((VAL_END,), "collect", consume=False)
        if (yield value) == VAL_END:
            yield Until((VAL_END,), "drop")
        emit_param(eng, call, key.text.strip(), value.text)
    close_args(eng, call)
    eng.finish_call(call)
    if m == OPEN:
        eng.unread(OPEN)


FORMAT = TextFormat(
    name="glm45",
    parser=Glm45,
    family="GLM-4.5, GLM-4.6",
    markers=(OPEN, KEY, KEY_END, VAL, VAL_END, CLOSE),
    peers={"vllm": ("glm45",), "sglang": ("glm45", "glm")},
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
