"""Inkling: a model message whose header names the tool, its body the JSON call.

    <|message_model|>get_weather<|content_invoke_tool_json|>
    {"name": "get_weather", "args": {"city": "Paris"}}<|end_message|>

(one line in the output; cut here to fit).

The body's name is the call's (SGLang also drops a call whose header names another tool;
here the body wins). The header and the other control tokens (``<|message_model|>`` before
prose, ``<|end_message|>``) are framing, not content.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Run, Until, content_until
from toolwire.parsing._jsonops import CallKeys, JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "Inkling"]

MESSAGE = "<|message_model|>"
INVOKE = "<|content_invoke_tool_json|>"
END = "<|end_message|>"
KEYS = CallKeys(arguments=frozenset({"args", "arguments"}))


def inkling_body(eng: Engine, marker: str = INVOKE) -> Run:
    yield JsonCalls((END, MESSAGE), non_call="error", keys=KEYS)
    rest = Until((END, MESSAGE), "collect", consume=False)
    if (yield rest) == END:
        yield Until((END,), "drop")
    eng.stray(rest.text, f"after {INVOKE}")


class Inkling(Format):
    name = "inkling"
    markers = (INVOKE,)

    def run(self, eng: Engine) -> Run:
        while True:
            m = yield from content_until(eng, (MESSAGE, INVOKE, END))
            if m is None:
                return
            if m == INVOKE:
                yield from inkling_body(eng)
            elif m == MESSAGE:  # a header: a tool's name when the invoke token follows
                head = Until((INVOKE, MESSAGE, END, "\n", "<|"), "collect", consume=False)
                nxt = yield head
                if nxt == INVOKE:
                    yield Until((INVOKE,), "drop")
                    yield from inkling_body(eng)
                else:
                    eng.content(head.text)


FORMAT = TextFormat(
    name="inkling",
    parser=Inkling,
    family="Inkling",
    markers=(MESSAGE, INVOKE, END),
    peers={"vllm": ("inkling",), "sglang": ("inkling",)},
    call=CallShape(
        layout=JsonObject(arguments_key="args"),
        call_open=MESSAGE + "{name}" + INVOKE,
        call_close=END,
    ),
    cues=(Cue(marker=INVOKE, read=inkling_body),),
    quirks='the body writes `"args"`; the header before it is framing',
)
