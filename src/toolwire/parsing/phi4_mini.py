"""Phi-4-mini: ``functools[{"name": "f", "arguments": {...}}, ...]``."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Run, content_until
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["Phi4Mini"]

TAG = "functools["


class Phi4Mini(Format):
    name = "phi4_mini"
    markers = (TAG,)

    def run(self, eng: Engine) -> Run:
        while True:
            m = yield from content_until(eng, (TAG,))
            if m is None:
                return
            eng.unread("[")
            yield JsonCalls(non_call="error")
