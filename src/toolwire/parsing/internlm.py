"""InternLM 2.5: ``<|action_start|><|plugin|>{"name": "f", "parameters": {...}}<|action_end|>``.

Other actions (``<|interpreter|>`` code) are not tool calls: they stay content.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Peek, Run, Sections, Starts, Until
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["InternLM", "internlm_action"]

START = "<|action_start|>"
PLUGIN = "<|plugin|>"
END = "<|action_end|>"


class InternLM(Sections):
    name = "internlm"
    markers = (START,)

    def section(self, eng: Engine, marker: str) -> Run:
        return internlm_action(eng)


def internlm_action(eng: Engine) -> Run:
    """After ``<|action_start|>``: a plugin call, or another action kept as content."""
    yield Peek()
    if not (yield Starts(PLUGIN)):
        eng.content(START)
        return
    yield JsonCalls((END,), non_call="error")
    yield Until((END,), "drop")
