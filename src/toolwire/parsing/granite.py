"""IBM Granite: ``<|tool_call|>[{"name": "f", "arguments": {...}}, ...]``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Run, content_until
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["Granite"]

TAG = "<|tool_call|>"
ALT = "<tool_call>"  # Granite 3.0 wrote this one


class Granite(Format):
    name = "granite"
    markers = (TAG,)

    def run(self, eng: Engine) -> Run:
        while True:
            m = yield from content_until(eng, (TAG, ALT))
            if m is None:
                return
            yield JsonCalls(non_call="error")
