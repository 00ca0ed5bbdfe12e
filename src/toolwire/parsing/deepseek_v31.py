"""DeepSeek V3.1 / V3.2: ``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{...}``
``<｜tool▁call▁end｜><｜tool▁calls▁end｜>`` — the name then bare JSON arguments."""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Run, content_until
from toolwire.parsing.deepseek_v3 import CALLS, calls_section

__all__ = ["DeepSeekV31"]


class DeepSeekV31(Format):
    name = "deepseek_v31"
    markers = (CALLS,)

    def run(self, eng: Engine) -> Run:
        while True:
            m = yield from content_until(eng, (CALLS,))
            if m is None:
                return
            yield from calls_section(eng)
