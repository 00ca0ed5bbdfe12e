"""GigaChat 3 (Sber): one JSON call after ``function call<|role_sep|>`` (or
``<|function_call|>``), the reply before ``<|message_sep|>``.

    Let me check.<|message_sep|>function call<|role_sep|>
    {"name": "get_weather", "arguments": {"city": "Moscow"}}

``<|message_sep|>`` and a final ``</s>`` are framing, not content.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Run, Until, content_until
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "GigaChat3"]

CALL = "function call<|role_sep|>"
INLINE = "<|function_call|>"
SEP = "<|message_sep|>"
EOS = "</s>"


def giga_call(eng: Engine, marker: str = CALL) -> Run:
    yield JsonCalls((EOS, SEP), non_call="error")
    rest = Until((EOS, SEP, CALL, INLINE), "collect", consume=False)
    m = yield rest
    if m in (EOS, SEP):
        yield Until((m,), "drop")
    eng.stray(rest.text, "after the call")


class GigaChat3(Format):
    name = "gigachat3"
    markers = (CALL, INLINE)

    def run(self, eng: Engine) -> Run:
        while True:
            m = yield from content_until(eng, (CALL, INLINE, SEP, EOS))
            if m is None:
                return
            if m in (CALL, INLINE):
                yield from giga_call(eng, m)


FORMAT = TextFormat(
    name="gigachat3",
    parser=GigaChat3,
    family="GigaChat 3 (Sber)",
    markers=(SEP, CALL, INLINE),
    peers={"vllm": ("gigachat3",), "sglang": ("gigachat3",)},
    call=CallShape(layout=JsonObject(), call_open=CALL + "\n", begin_after_text=SEP, text_gap=""),
    cues=(Cue(marker=CALL, read=giga_call), Cue(marker=INLINE, read=giga_call)),
    quirks="one call per turn; `<|message_sep|>` ends the reply",
)
