"""InternLM 2.5: ``<|action_start|><|plugin|>{"name": "f", "parameters": {...}}<|action_end|>``.

Other actions (``<|interpreter|>`` code) are not tool calls: they stay content.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Peek, Run, Starts, Until, content_until
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["InternLM", "internlm_action"]

START = "<|action_start|>"
PLUGIN = "<|plugin|>"
END = "<|action_end|>"


class InternLM(Format):
    name = "internlm"
    markers = (START,)

    def run(self, eng: Engine) -> Run:
        while True:
            m = yield from content_until(eng, (START,))
            if m is None:
                return
            yield from internlm_action(eng)


def internlm_action(eng: Engine) -> Run:
    """After ``<|action_start|>``: a plugin call, or another action kept as content."""
    yield Peek()
    if not (yield Starts(PLUGIN)):
        eng.content(START)
        return
    yield JsonCalls((END,), non_call="error")
    yield Until((END,), "drop")
