"""One whole JSON value read with the incremental scanner (no call structure expected).

For families whose calls are JSON of a shape the call-object reader does not know (Apertus'
``[{"name": {arguments}}]``): the value is scanned as it arrives (bounded work per character),
repaired once at its end marker if the scanner could not read it, and handed to the format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from toolwire.parsing._base import NEED, Engine, Op, Until
from toolwire.parsing._jsonscan import JsonScanner
from toolwire.parsing._repair import RepairFailed, repair

__all__ = ["JsonValue"]


class JsonValue(Op):
    """Result: self, with ``ok``, ``value`` and ``raw`` (the text read) set."""

    def __init__(self, ends: Iterable[str]) -> None:
        self.ends = tuple(ends)
        self.sink: list[str] = []
        self.sc = JsonScanner(self.sink)
        self.raw: list[str] = []
        self.tail: Until | None = None
        self.ok = False
        self.value: Any = None

    @property
    def text(self) -> str:
        return "".join(self.raw)

    def step(self, eng: Engine) -> Any:
        if self.tail is None:
            i = eng.pos
            j = self.sc.feed(eng.buf, i)
            if j > i:
                self.raw.append(eng.buf[i:j])
                eng.pos = j
            if not self.sc.done and not self.sc.failed:
                if not eng.eof:
                    return NEED
                self.sc.finish()
            if self.sc.done:
                self.ok, self.value = True, json.loads("".join(self.sink))
                return self
            self.tail = Until(self.ends, "collect", consume=False)
        if self.tail.step(eng) is NEED:
            return NEED
        self.raw.append(self.tail.text)
        try:
            self.ok, self.value = True, repair(self.text)
        except RepairFailed:
            self.ok = False
        return self
