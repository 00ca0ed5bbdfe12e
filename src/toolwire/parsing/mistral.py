"""Mistral: ``[TOOL_CALLS]f[ARGS]{...}`` per call (v11+, optionally ``[CALL_ID]id`` before
``[ARGS]``), or the older ``[TOOL_CALLS][{"name": ..., "arguments": ...}, ...]``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Peek, Run, Sections, Until
from toolwire.parsing._jsonops import JsonArgs, JsonCalls

__all__ = ["Mistral", "mistral_calls"]

TC = "[TOOL_CALLS]"
ARGS = "[ARGS]"
CALL_ID = "[CALL_ID]"
EOS = "</s>"


class Mistral(Sections):
    name = "mistral"
    markers = (TC,)

    def section(self, eng: Engine, marker: str) -> Run:
        return mistral_calls(eng)


def mistral_calls(eng: Engine) -> Run:
    """After ``[TOOL_CALLS]``: a JSON list of calls, or ``name[ARGS]{...}``."""
    ch = yield Peek()
    if ch == "":
        return
    if ch in ("[", "{"):
        yield JsonCalls((TC, EOS), non_call="error")
        return
    head = Until((ARGS, CALL_ID, TC), "collect")
    m = yield head
    name, call_id = head.text.strip(), None
    if m == CALL_ID:
        idpart = Until((ARGS, TC), "collect")
        m = yield idpart
        call_id = idpart.text.strip() or None
    if m != ARGS or not name:
        eng.fail_call(None, "a [TOOL_CALLS] entry without a name and [ARGS]", head.text)
        if m == TC:
            eng.unread(TC)
        return
    yield JsonArgs(eng.start_call(name, call_id), (TC, EOS))
