"""Llama 3.x JSON calls: ``<|python_tag|>{"name": "f", "parameters": {...}}``, or a bare object.

Several calls are joined by ``;``. ``arguments`` is accepted for ``parameters``. A bare object
counts only at the very start of the output; a JSON value that holds no call stays content.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Peek, Run, Starts, content_until, first_char
from toolwire.parsing._jsonops import JsonCalls

__all__ = ["Llama3Json"]

TAG = "<|python_tag|>"


def calls_joined(eng: Engine) -> Run:
    """One or more call objects separated by ``;``; trailing text goes back to content."""
    while True:
        started = yield JsonCalls((";", TAG), non_call="content")
        if not started:
            return
        peek = Peek()
        ch = yield peek
        if ch != ";" or not (yield Starts(";")):
            eng.content(peek.ws)
            return


class Llama3Json(Format):
    name = "llama3_json"
    markers = (TAG,)

    def run(self, eng: Engine) -> Run:
        ch = yield from first_char(eng)
        if ch == "{":
            yield from calls_joined(eng)
        while True:
            m = yield from content_until(eng, (TAG,))
            if m is None:
                return
            yield from calls_joined(eng)
