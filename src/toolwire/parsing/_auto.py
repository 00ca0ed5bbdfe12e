"""``format="auto"``: find the format by its markers, then read each call with that format.

Detection happens per call, at the marker, so the decision depends only on the text (never on
where deltas were cut). Where formats share a marker, what follows decides: after
``<tool_call>`` a ``{`` or ``[`` is Hermes, ``<function=`` is Qwen3-Coder, a name followed by
``<arg_key>`` (or, with no arguments, a name in ``tools``) is GLM-4.5, anything else an error;
after ``<｜tool▁sep｜>`` the word ``function`` is DeepSeek V3, anything else V3.1. At the very
start of the output a ``{`` is a Llama 3 JSON call, ``[{`` a JSON list of calls (xLAM) and
``[name(`` a pythonic list. Harmony takes over the rest of the stream once its tokens appear.
"""

from __future__ import annotations

from toolwire.parsing._base import (
    Engine,
    Format,
    Peek,
    Run,
    Starts,
    Until,
    content_until,
    first_char,
)
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing.deepseek_v3 import CALLS as DS_CALLS
from toolwire.parsing.deepseek_v3 import calls_section
from toolwire.parsing.glm45 import glm_block
from toolwire.parsing.granite import TAG as GRANITE
from toolwire.parsing.harmony import CHANNEL, START, Harmony
from toolwire.parsing.hermes import OPEN as TOOL_CALL
from toolwire.parsing.hermes import hermes_block
from toolwire.parsing.internlm import START as ACTION
from toolwire.parsing.internlm import internlm_action
from toolwire.parsing.jamba import OPEN as JAMBA
from toolwire.parsing.jamba import jamba_block
from toolwire.parsing.kimi_k2 import SECTION, SECTION_ALT, kimi_section
from toolwire.parsing.llama3_json import TAG as PYTHON_TAG
from toolwire.parsing.llama3_json import calls_joined
from toolwire.parsing.mistral import TC, mistral_calls
from toolwire.parsing.phi4_mini import TAG as FUNCTOOLS
from toolwire.parsing.pythonic import END as PY_END
from toolwire.parsing.pythonic import START as PY_START
from toolwire.parsing.pythonic import PyCalls
from toolwire.parsing.qwen3_coder import FUNC, qwen_block, qwen_function
from toolwire.parsing.xlam import FENCE, fenced_calls

__all__ = ["Auto"]

_MARKERS = (
    TOOL_CALL,
    FUNC,
    TC,
    PYTHON_TAG,
    DS_CALLS,
    SECTION,
    SECTION_ALT,
    CHANNEL,
    START,
    GRANITE,
    ACTION,
    JAMBA,
    FUNCTOOLS,
    PY_START,
    FENCE,
)


class Auto(Format):
    name = "auto"

    def run(self, eng: Engine) -> Run:
        ch = yield from first_char(eng)
        if ch == "{":
            yield from calls_joined(eng)
        elif ch == "[":
            if (yield Starts(TC)):
                yield from mistral_calls(eng)
            else:
                yield from _leading_list(eng)
        while True:
            m = yield from content_until(eng, _MARKERS)
            if m is None:
                return
            if m in (CHANNEL, START):
                eng.unread(m)
                yield from Harmony().run(eng)
                return
            yield from _dispatch(eng, m)


def _leading_list(eng: Engine) -> Run:
    yield Starts("[")
    inner = Peek()
    ch = yield inner
    eng.unread("[" + inner.ws)
    if ch == "{":
        yield JsonCalls(non_call="content")
    elif ch.isalpha() or ch == "_":
        yield PyCalls()


def _tool_call(eng: Engine) -> Run:
    peek = Peek()
    ch = yield peek
    if ch in ("{", "["):
        yield from hermes_block(eng)
    elif ch == "<":
        yield from qwen_block(eng)
    else:
        eng.unread(peek.ws)
        yield from glm_block(eng, guessed=True)


def _dispatch(eng: Engine, m: str) -> Run:
    if m == TOOL_CALL:
        yield from _tool_call(eng)
    elif m == FUNC:
        yield from qwen_function(eng)
    elif m == TC:
        yield from mistral_calls(eng)
    elif m == PYTHON_TAG:
        yield from calls_joined(eng)
    elif m == DS_CALLS:
        yield from calls_section(eng)
    elif m in (SECTION, SECTION_ALT):
        yield from kimi_section(eng)
    elif m == GRANITE:
        yield JsonCalls(non_call="error")
    elif m == ACTION:
        yield from internlm_action(eng)
    elif m == JAMBA:
        yield from jamba_block(eng)
    elif m == FUNCTOOLS:
        eng.unread("[")
        yield JsonCalls(non_call="error")
    elif m == PY_START:
        yield PyCalls((PY_END,), brackets=None)
        yield Until((PY_END,), "drop")
    elif m == FENCE:
        yield from fenced_calls(eng)
