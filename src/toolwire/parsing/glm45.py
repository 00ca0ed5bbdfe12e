"""GLM-4.5/4.6: ``<tool_call>f<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>``.

Values are plain text typed by the tool's schema (see ``_values``); arguments stream one
parameter at a time.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing.qwen3_coder import close_args, emit_param

__all__ = ["Glm45", "glm_block"]

OPEN = "<tool_call>"
CLOSE = "</tool_call>"
KEY = "<arg_key>"
KEY_END = "</arg_key>"
VAL = "<arg_value>"
VAL_END = "</arg_value>"


class Glm45(Sections):
    name = "glm45"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return glm_block(eng)


def glm_block(eng: Engine) -> Run:
    """After ``<tool_call>``: the name, the key/value pairs, ``</tool_call>``."""
    head = Until((KEY, CLOSE, OPEN), "collect", consume=False)
    m = yield head
    name = head.text.strip()
    if not name:
        rest = Until((CLOSE, OPEN), "collect")
        if (yield rest) == OPEN:
            eng.unread(OPEN)
        eng.fail_call(None, "a <tool_call> without a function name", head.text + rest.text)
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
