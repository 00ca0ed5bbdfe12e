"""Mistral: ``[TOOL_CALLS]f[ARGS]{...}`` per call (v11+, optionally ``[CALL_ID]id`` before
``[ARGS]``), or the older ``[TOOL_CALLS][{"name": ..., "arguments": ...}, ...]``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult
from toolwire._spec import ToolSpec
from toolwire.parsing._base import Engine, Peek, Run, Sections, Starts, Until
from toolwire.parsing._jsonops import JsonArgs, JsonCalls
from toolwire.parsing._prompting import function_of, result_value
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonArguments

__all__ = ["FORMAT", "Mistral", "mistral_calls"]

TC = "[TOOL_CALLS]"
ARGS = "[ARGS]"
CALL_ID = "[CALL_ID]"
EOS = "</s>"
_NAME = re.compile(r"[A-Za-z_][\w.\-]*")


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
    # v11+ writes name[ARGS]{...}; vLLM's default decoding drops [ARGS]: name{...}
    head = Until((ARGS, CALL_ID, TC, "{"), "collect", consume=False)
    m = yield head
    name, call_id = head.text.strip(), None
    if m == "{" and _NAME.fullmatch(name):
        yield JsonArgs(eng.start_call(name), (TC, EOS))
        return
    if m in (ARGS, CALL_ID):
        yield Starts(m)
    elif m == "{":  # not a name before the arguments
        rest = Until((TC, EOS), "collect", consume=False)
        yield rest
        eng.fail_call(None, "a [TOOL_CALLS] entry without a name", head.text + rest.text)
        return
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


def mistral_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    functions = _json.dumps([{"type": "function", "function": function_of(s)} for s in specs])
    return (
        f"[AVAILABLE_TOOLS] {functions} [/AVAILABLE_TOOLS]\n"
        "To call a function, write [TOOL_CALLS], its name, [ARGS] and its arguments as a JSON "
        'object, for example [TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}; one such block '
        "per call." + rules
    )


def mistral_results(pairs: Sequence[tuple[ToolCall, ToolResult]]) -> str:
    return "\n".join(
        "[TOOL_RESULTS] "
        + _json.dumps({"call_id": call.id, "content": result_value(result)})
        + " [/TOOL_RESULTS]"
        for call, result in pairs
    )


FORMAT = TextFormat(
    name="mistral",
    parser=Mistral,
    family="Mistral 7B v0.3, Nemo, Small, Large, Magistral, Devstral",
    markers=(TC, ARGS, CALL_ID),
    peers={"vllm": ("mistral",), "sglang": ("mistral",)},
    # what tokenizers v11+ write (Mistral Small 3, Magistral, Devstral); the JSON list of older
    # models is read too
    call=CallShape(layout=JsonArguments(), call_open=TC + "{name}" + ARGS),
    prompt=mistral_tools,
    results=mistral_results,
    cues=(Cue(marker=TC, read=lambda eng, m: mistral_calls(eng)),),
    quirks="v11+ tokenizers write name[ARGS]{...} per call, older ones a JSON list",
)
